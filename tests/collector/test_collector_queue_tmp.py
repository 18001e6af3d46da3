"""A new PushClient's cleanup of crashed writes never deletes a write still in flight."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from orchestrator.push import PushClient

REPO = Path(__file__).resolve().parents[2]

# A real writer process: it enqueues one push, but pauses with the push's .tmp-* file
# written and not yet renamed (told on stdout), until a line arrives on stdin.
WRITER = """
import sys, tempfile
import orchestrator.push.client as client

real, calls = tempfile.mkstemp, []

def paused_mkstemp(*args, **kwargs):
    fd, path = real(*args, **kwargs)
    calls.append(path)
    if len(calls) == 2:  # 1: the .seq file, 2: the push itself
        print(path, flush=True)
        sys.stdin.readline()
    return fd, path

client.tempfile.mkstemp = paused_mkstemp
c = client.PushClient("http://127.0.0.1:9", "token", "alpha", sys.argv[1], node="n1")
print("queued", c.enqueue("runs", [{"run_id": "r1"}]), flush=True)
"""


def test_cleanup_waits_for_a_write_in_flight_in_another_process(tmp_path: Path) -> None:
    queue = tmp_path / "queue"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(queue)], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        tmp = Path(writer.stdout.readline().strip())
        assert tmp.name.startswith(".tmp-") and tmp.exists()
        opened: list[PushClient] = []
        opener = threading.Thread(target=lambda: opened.append(
            PushClient("http://127.0.0.1:9", "token", "alpha", queue, node="n1")))
        opener.start()
        time.sleep(0.5)  # long enough for an unlocked cleanup to have run
        assert tmp.exists(), "the in-flight write was deleted by another client's cleanup"
        writer.stdin.write("go\n")
        writer.stdin.flush()
        out, _ = writer.communicate(timeout=10)
        opener.join(timeout=10)
    finally:
        writer.kill()
    assert writer.returncode == 0 and out.startswith("queued ")
    assert opened and opened[0].pending() == 1
    assert not list(queue.glob(".tmp-*"))


def test_cleanup_still_removes_a_crashed_write(tmp_path: Path) -> None:
    queue = tmp_path / "queue"
    queue.mkdir()
    crashed = queue / ".tmp-abc123"
    crashed.write_bytes(b'{"half": ')
    PushClient("http://127.0.0.1:9", "token", "alpha", queue, node="n1")
    assert not crashed.exists()
