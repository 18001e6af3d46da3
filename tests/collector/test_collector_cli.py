"""``orchestrator-collector serve``: bad usage is one line and exit 2; SIGTERM exits 0."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from collector_support import CollectorProcess, collector_env

SCRIPT = Path(sys.executable).parent / "orchestrator-collector"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), f"console script missing: {SCRIPT} (pip install -e .)"
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=30,
                          env=collector_env())


@pytest.mark.parametrize("listen", ["nonsense", "127.0.0.1:99999", "::1:80", "host:"])
def test_bad_listen_address(tmp_path: Path, listen: str) -> None:
    out = run_cli("serve", "--listen", listen, "--db", str(tmp_path / "db"), "--token", "a=b")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "--listen" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_listen_address_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run_cli("serve", "--listen", f"127.0.0.1:{port}", "--db", str(tmp_path / "db"),
                      "--token", "a=b")
    assert out.returncode == 2 and "address in use" in out.stderr, out.stderr
    assert out.stderr.count("\n") == 1


@pytest.mark.parametrize("where", ["missing-dir", "a-directory", "under-a-file"])
def test_unwritable_database(tmp_path: Path, where: str) -> None:
    (tmp_path / "file").write_text("x")
    db = {"missing-dir": tmp_path / "nope" / "c.db", "a-directory": tmp_path,
          "under-a-file": tmp_path / "file" / "c.db"}[where]
    out = run_cli("serve", "--listen", "127.0.0.1:0", "--db", str(db), "--token", "a=b")
    assert out.returncode == 2, out
    assert out.stderr.count("\n") == 1 and "database" in out.stderr and str(db) in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("args, message", [
    (["--token", "no-equals"], "CLUSTER=TOKEN"),
    (["--tokens-file", "/nonexistent/tokens"], "cannot read tokens file"),
])
def test_bad_tokens(tmp_path: Path, args: list[str], message: str) -> None:
    out = run_cli("serve", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "db"), *args)
    assert out.returncode == 2 and message in out.stderr, out.stderr
    assert out.stderr.count("\n") == 1


def test_missing_arguments_is_usage_error() -> None:
    out = run_cli("serve")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "--listen" in out.stderr


def test_sigterm_stops_cleanly_and_data_survives(tmp_path: Path) -> None:
    proc = CollectorProcess(tmp_path).start()
    assert proc.terminate() == 0
    assert "Traceback" not in proc.stderr()
    proc.start()  # reopens the existing database (schema already there)
    assert proc.terminate() == 0
    with sqlite3.connect(tmp_path / "collector.db") as db:  # WAL is a property of the file
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
