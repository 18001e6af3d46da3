"""End-to-end helpers: a node root on disk and the real CLI run as a subprocess.

``node`` gives a fresh ``ORCHESTRATOR_ROOT`` with ``ORCHESTRATOR_NODE=n1`` and no
``ORCHESTRATOR_LOG_FORMAT`` (so logs are JSON lines when not on a terminal). ``node.svcmgr``
runs ``svcmgr`` from the venv this pytest runs in; ``node.pty_svcmgr`` runs it with stdin,
stdout and stderr on a pseudo-terminal, answering prompts. Every read has a timeout, so a
test never hangs.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
SVCMGR = BIN / "svcmgr"
TS = r"\d\d:\d\d:\d\d,\d{3}"


def recording_shim(directory: Path, command: str) -> tuple[dict[str, str], Path]:
    """``command`` on a PATH of its own that notes each call's arguments (a line per call)
    before it runs the real one: how a test counts the engine's or iproute2's calls. The
    environment that puts it first, and the file of calls."""
    import shutil

    real = shutil.which(command)
    assert real, f"{command} is not installed"
    shim, calls = directory / "bin", directory / "calls"
    shim.mkdir(exist_ok=True)
    (shim / command).write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real} "$@"\n')
    (shim / command).chmod(0o755)
    return {"PATH": f"{shim}:{os.environ['PATH']}"}, calls


@dataclass
class Result:
    rc: int
    out: str
    err: str

    def logs(self) -> list[dict]:
        """stderr as JSON log lines (non-TTY format); fails on anything else."""
        return [json.loads(line) for line in self.err.splitlines() if line.strip()]

    def events(self) -> list[str]:
        return [e["event"] for e in self.logs()]

    def json(self):
        return json.loads(self.out)


class Node:
    def __init__(self, root: Path, name: str = "n1"):
        self.root = root
        self.name = name
        self.services = root / "etc" / "orchestrator" / "services"
        self.services.mkdir(parents=True)
        self.var = root / "var" / "lib" / "orchestrator"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ORCHESTRATOR_", "OPENSVC_"))}
        env.update(ORCHESTRATOR_ROOT=str(root), ORCHESTRATOR_NODE=name)
        self.env = env

    def write(self, svc: str, text: str) -> Path:
        path = self.services / f"{svc}.conf"
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def svc_var(self, svc: str) -> Path:
        return self.var / "services" / svc

    def _env(self, env: dict | None) -> dict:
        merged = dict(self.env)
        merged.update(env or {})
        return merged

    def run(self, argv: list[str], *, env: dict | None = None, timeout: float = 30,
            stdin: str | None = None, **kw) -> Result:
        proc = subprocess.run(argv, env=self._env(env), input=stdin if stdin is not None else "",
                              capture_output=True, text=True, timeout=timeout, **kw)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def svcmgr(self, *args: str, **kw) -> Result:
        return self.run([str(SVCMGR), *args], **kw)

    def popen(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen([str(SVCMGR), *args], env=self._env(env),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def runs(self, svc: str, *extra: str) -> list[dict]:
        res = self.svcmgr("-s", svc, "print", "runs", "--format", "json", *extra)
        assert res.rc == 0, res.err
        return res.json()

    def status(self, svc: str) -> dict:
        res = self.svcmgr("-s", svc, "print", "status", "--format", "json")
        assert res.rc == 0, res.err
        return res.json()

    def pty_run(self, argv: list[str], *, answer: str | None = None,
                env: dict | None = None, timeout: float = 15) -> tuple[int, str]:
        """Run ``argv`` on a pseudo-terminal; type ``answer`` + Enter once the prompt shows.

        Returns the exit code and everything the terminal showed (``\\r\\n`` -> ``\\n``).
        """
        master, slave = os.openpty()
        proc = subprocess.Popen(argv, env=self._env(env), stdin=slave, stdout=slave,
                                stderr=slave, close_fds=True, start_new_session=True)
        os.close(slave)
        buf = b""
        answered = answer is None
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    proc.kill()
                    raise AssertionError(f"pty run timed out; output so far: {buf!r}")
                ready, _, _ = select.select([master], [], [], min(left, 0.5))
                if ready:
                    try:
                        data = os.read(master, 4096)
                    except OSError:  # EIO: every slave end closed
                        break
                    if not data:
                        break
                    buf += data
                    if not answered and buf.rstrip().endswith(b"(yes/no) >"):
                        os.write(master, answer.encode() + b"\n")
                        answered = True
                elif proc.poll() is not None:
                    break
            rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            os.close(master)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return rc, buf.decode("utf-8", "replace").replace("\r\n", "\n")

    def pty_svcmgr(self, *args: str, **kw) -> tuple[int, str]:
        return self.pty_run([str(SVCMGR), *args], **kw)


def transcript_regex(expected: str) -> re.Pattern[str]:
    """An exact transcript where ``HH:MM:SS,mmm`` stands for any log timestamp."""
    parts = expected.split("HH:MM:SS,mmm")
    return re.compile(TS.join(re.escape(p) for p in parts), re.DOTALL)
