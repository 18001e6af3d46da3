"""A terminate() racing the end of a run never writes to a file descriptor number the run
has already closed (the kernel hands that number to the next file anyone opens)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from orchestrator.execution import CommandSpec, process, start


def test_terminate_after_the_wake_fd_is_closed_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic: the window is forced open instead of waited for.

    ``os.close`` is wrapped so that, in the run's monitor thread, right after the wake pipe's
    write end is closed (and before the run is marked done), the fd number is reused at
    once for another file (``dup2``, as an ``open`` anywhere in the daemon could), and
    ``terminate`` is called in that window. The reused file must stay empty: before the
    fix, terminate saw the run not done yet and wrote its wake byte into that file.
    """
    real_close = os.close
    victim = tmp_path / "victim"
    state: dict[str, object] = {}

    def close(fd: int) -> None:
        real_close(fd)
        running = state.get("running")
        if running is None or fd != state["wake_fd"] or "fired" in state:
            return
        if threading.current_thread().name != f"run-{running.pid}":
            return
        state["fired"] = True
        reuse = os.open(victim, os.O_WRONLY | os.O_CREAT, 0o600)
        os.dup2(reuse, fd)  # the number is taken again by an unrelated file
        real_close(reuse)
        running.terminate("too late")

    monkeypatch.setattr(process.os, "close", close)
    running = start(CommandSpec("sleep 0.2"), tmp_path / "log")
    state["wake_fd"] = running._wake_w
    state["running"] = running
    result = running.wait(timeout=10)
    real_close(state["wake_fd"])
    assert state.get("fired"), "the window was not reached"
    assert result.exit_code == 0 and result.interrupted is None
    assert victim.read_bytes() == b"", "terminate wrote to a reused fd number"


def test_terminate_while_running_still_wakes_the_monitor(tmp_path: Path) -> None:
    running = start(CommandSpec("sleep 30"), tmp_path / "log")
    running.terminate("stop", grace=0.1)
    result = running.wait(timeout=10)
    assert result.interrupted == "stop" and result.duration < 5
