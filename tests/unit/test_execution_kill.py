"""Timeouts and terminate(): the whole process tree dies, including processes that left
the process group (setsid) and orphans whose parent already exited."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import psutil

from orchestrator.execution import CommandSpec, run, start


def _wait_for_pid(pidfile: Path, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = pidfile.read_text().strip() if pidfile.exists() else ""
        if text:
            return int(text)
        time.sleep(0.01)
    raise AssertionError(f"{pidfile} was never written")


def _gone(pid: int, timeout: float = 2.0) -> bool:
    """True once ``pid`` no longer runs (a zombie awaiting its reaper counts as gone)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def _cleanup(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def test_timeout_kills_grandchild(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    spec = CommandSpec(f"sh -c 'sleep 300 & echo $! > {pidfile}; wait'", timeout=0.5,
                       kill_grace=0.3)
    t0 = time.monotonic()
    result = run(spec, tmp_path / "log")
    elapsed = time.monotonic() - t0
    grandchild = _wait_for_pid(pidfile)
    try:
        assert result.timed_out
        assert result.interrupted == "timeout after 0.5s"
        assert result.signal == signal.SIGTERM and result.exit_code == 128 + signal.SIGTERM
        assert not result.ok
        assert 0.45 <= elapsed < 2.0
        assert _gone(grandchild), "grandchild survived the timeout"
        assert "terminating (timeout after 0.5s)" in (tmp_path / "log").read_text()
    finally:
        _cleanup(grandchild)


def test_timeout_kills_grandchild_that_left_the_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "escaped.pid"
    spec = CommandSpec(f"sh -c 'setsid sleep 300 & echo $! > {pidfile}; wait'", timeout=0.8,
                       kill_grace=0.3)
    running = start(spec, tmp_path / "log")
    escaped = _wait_for_pid(pidfile)
    try:
        # Prove the precondition: it really is in another session and process group.
        deadline = time.monotonic() + 2
        while os.getsid(escaped) == running.pid and time.monotonic() < deadline:
            time.sleep(0.01)  # setsid(1) has not called setsid() yet
        assert os.getsid(escaped) != running.pid
        assert os.getpgid(escaped) != running.pid
        result = running.wait(timeout=5)
        assert result.timed_out
        assert _gone(escaped), "a descendant that called setsid survived the timeout"
    finally:
        _cleanup(escaped)


def test_terminate_kills_orphan_whose_parent_exited(tmp_path: Path) -> None:
    # The subshell starts a new-session sleep and exits at once: the sleep is reparented
    # to init, in another group, and no longer a descendant of the run's leader.
    pidfile = tmp_path / "orphan.pid"
    spec = CommandSpec(f"sh -c '(setsid sleep 300 > /dev/null 2>&1 & echo $! > {pidfile}); "
                       f"sleep 300'", kill_grace=0.3)
    running = start(spec, tmp_path / "log")
    orphan = _wait_for_pid(pidfile)
    try:
        deadline = time.monotonic() + 2
        while psutil.Process(orphan).ppid() == running.pid or (
            os.getsid(orphan) == running.pid and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        assert running.pid not in [p.pid for p in psutil.Process(orphan).parents()]
        running.terminate("service stopping", grace=0.3)
        result = running.wait(timeout=5)
        assert result.interrupted == "service stopping"
        assert _gone(orphan), "an orphan of the run survived terminate()"
    finally:
        _cleanup(orphan)


def test_terminate_mid_run(tmp_path: Path) -> None:
    lines: list[str] = []
    running = start(CommandSpec("sh -c 'echo started; sleep 300'", kill_grace=5),
                    tmp_path / "log", on_line=lines.append)
    deadline = time.monotonic() + 5
    while not lines and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running.poll() is None
    t0 = time.monotonic()
    running.terminate("operator request", grace=0.5)
    result = running.wait(timeout=5)
    # sh and sleep die on SIGTERM: no need to wait for the grace period.
    assert time.monotonic() - t0 < 0.45
    assert result.interrupted == "operator request"
    assert not result.timed_out
    assert result.signal == signal.SIGTERM and result.exit_code == 143
    assert lines == ["started"]
    assert _gone(result.pid)


def test_sigterm_ignored_escalates_to_sigkill(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = tmp_path / "stubborn.sh"
    script.write_text(f"trap '' TERM\nsleep 300 & echo $! > {pidfile}\nwait\nwait\n")
    spec = CommandSpec(f"sh {script}", timeout=0.3, kill_grace=0.4)
    t0 = time.monotonic()
    result = run(spec, tmp_path / "log")
    elapsed = time.monotonic() - t0
    child = _wait_for_pid(pidfile)
    try:
        assert result.timed_out
        assert result.signal == signal.SIGKILL and result.exit_code == 137
        assert 0.65 <= elapsed < 2.5
        assert _gone(child)
        assert "SIGKILL" in (tmp_path / "log").read_text()
    finally:
        _cleanup(child)


def test_second_terminate_can_shorten_grace(tmp_path: Path) -> None:
    script = tmp_path / "stubborn.sh"
    script.write_text("trap '' TERM\nwhile :; do sleep 0.05; done\n")
    running = start(CommandSpec(f"sh {script}"), tmp_path / "log")
    time.sleep(0.1)
    t0 = time.monotonic()
    running.terminate("first", grace=30)
    time.sleep(0.1)
    running.terminate("second", grace=0)
    result = running.wait(timeout=5)
    assert time.monotonic() - t0 < 2
    assert result.interrupted == "first"
    assert result.signal == signal.SIGKILL


def test_timeout_not_reached(tmp_path: Path) -> None:
    result = run(CommandSpec("sleep 0.1", timeout=5), tmp_path / "log")
    assert result.exit_code == 0 and not result.timed_out and result.interrupted is None
