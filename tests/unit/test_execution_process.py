"""Real processes: environment, cwd, umask, rlimits, output, exit codes, start failures."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from orchestrator.errors import ActionError
from orchestrator.execution import (
    RUN_TOKEN_VAR,
    CommandResult,
    CommandSpec,
    CommandStartError,
    run,
    start,
)


def test_output_goes_to_log_and_on_line(tmp_path: Path) -> None:
    lines: list[str] = []
    log = tmp_path / "sub" / "run.log"
    result = run(CommandSpec("sh -c 'echo out; echo err >&2; printf tail'"), log,
                 on_line=lines.append)
    assert result.exit_code == 0 and result.ok
    assert lines == ["out", "err", "tail"]
    assert log.read_text() == "out\nerr\ntail"
    assert result.log_path == log


def test_non_utf8_output_does_not_break(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run(CommandSpec(r"printf 'a\377b\n'"), tmp_path / "log", on_line=lines.append)
    assert result.exit_code == 0
    assert lines == ["a\ufffdb"]
    assert (tmp_path / "log").read_bytes() == b"a\xffb\n"


@pytest.mark.parametrize("code", [0, 1, 7, 255])
def test_exit_code_propagates(tmp_path: Path, code: int) -> None:
    result = run(CommandSpec(f"sh -c 'exit {code}'"), tmp_path / "log")
    assert result.exit_code == code
    assert result.signal is None and not result.timed_out and result.interrupted is None
    assert result.ok == (code == 0)


def test_killed_by_signal_is_128_plus_signal(tmp_path: Path) -> None:
    result = run(CommandSpec("sh -c 'kill -9 $$'"), tmp_path / "log")
    assert result.signal == 9
    assert result.exit_code == 137
    assert not result.ok
    assert result.describe() == "killed by SIGKILL"


def test_result_times(tmp_path: Path) -> None:
    result = run(CommandSpec("sleep 0.2"), tmp_path / "log")
    assert result.started_at.tzinfo is not None and result.ended_at.tzinfo is not None
    assert result.started_at.utcoffset().total_seconds() == 0
    assert 0.15 <= result.duration < 2
    assert result.ended_at > result.started_at
    assert result.pid > 0


def test_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAEMON_SECRET", "leak")
    lines: list[str] = []
    spec = CommandSpec("env", environment={"FOO": "bar baz", "OPENSVC_RID": "task#0"})
    result = run(spec, tmp_path / "log", on_line=lines.append)
    assert result.exit_code == 0
    env = dict(line.split("=", 1) for line in lines)
    assert env["FOO"] == "bar baz"
    assert env["OPENSVC_RID"] == "task#0"
    assert "DAEMON_SECRET" not in env
    assert "/usr/bin" in env["PATH"].split(":")
    assert env["HOME"] and env["USER"] and env["LOGNAME"] == env["USER"]
    assert len(env[RUN_TOKEN_VAR]) == 32


def test_environment_may_override_base(tmp_path: Path) -> None:
    lines: list[str] = []
    run(CommandSpec("printenv PATH", environment={"PATH": "/bin"}), tmp_path / "log",
        on_line=lines.append)
    assert lines == ["/bin"]


def test_cwd(tmp_path: Path) -> None:
    workdir = tmp_path / "work dir"
    workdir.mkdir()
    lines: list[str] = []
    result = run(CommandSpec("pwd", cwd=str(workdir)), tmp_path / "log", on_line=lines.append)
    assert result.exit_code == 0
    assert lines == [str(workdir)]


def test_umask(tmp_path: Path) -> None:
    target = tmp_path / "created"
    result = run(CommandSpec(f"touch '{target}'", umask=0o027), tmp_path / "log")
    assert result.exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    target2 = tmp_path / "created2"
    run(CommandSpec(f"touch '{target2}'", umask=0o077), tmp_path / "log")
    assert stat.S_IMODE(target2.stat().st_mode) == 0o600


def test_rlimits(tmp_path: Path) -> None:
    lines: list[str] = []
    spec = CommandSpec("sh -c 'ulimit -n; ulimit -c; ulimit -Hn'",
                       limits={"limit_nofile": 123, "core": 0})
    result = run(spec, tmp_path / "log", on_line=lines.append)
    assert result.exit_code == 0
    assert lines == ["123", "0", "123"]


def test_rlimit_is_enforced(tmp_path: Path) -> None:
    # limit_fsize: writing past 1 KiB kills the writer with SIGXFSZ.
    target = tmp_path / "big"
    spec = CommandSpec(f"sh -c 'head -c 100000 /dev/zero > {target}'", limits={"fsize": 1024})
    result = run(spec, tmp_path / "log")
    assert result.exit_code != 0
    assert target.stat().st_size == 1024


def test_missing_executable_is_a_clean_error(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with pytest.raises(CommandStartError) as info:
        run(CommandSpec("no-such-program-xyz --flag"), log)
    err = info.value
    assert err.returncode == 127
    assert isinstance(err, ActionError) and err.exit_code == 1
    assert "no-such-program-xyz" in str(err) and "no such executable" in str(err)
    assert "no such executable" in log.read_text()


def test_not_executable_is_126(tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    with pytest.raises(CommandStartError) as info:
        run(CommandSpec(str(script)), tmp_path / "log")
    assert info.value.returncode == 126
    assert "permission denied" in str(info.value)


def test_bad_cwd_is_a_clean_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(CommandStartError) as info:
        run(CommandSpec("pwd", cwd=str(missing)), tmp_path / "log")
    assert info.value.returncode == 126
    assert str(missing) in str(info.value)
    assert "No such file or directory" in str(info.value)


def test_missing_command_in_shell_is_127(tmp_path: Path) -> None:
    result = run(CommandSpec("true; no-such-program-xyz"), tmp_path / "log")
    assert result.exit_code == 127
    assert "no-such-program-xyz" in (tmp_path / "log").read_text()


def test_start_poll_wait_and_on_exit(tmp_path: Path) -> None:
    got: list[CommandResult] = []
    done = threading.Event()

    def on_exit(result: CommandResult) -> None:
        got.append(result)
        done.set()

    running = start(CommandSpec("sleep 0.3"), tmp_path / "log", on_exit=on_exit)
    assert running.pid > 0
    assert running.poll() is None and not running.done
    with pytest.raises(TimeoutError):
        running.wait(timeout=0.05)
    result = running.wait(timeout=5)
    assert done.wait(5)
    assert got == [result]
    assert running.poll() is result
    assert result.exit_code == 0
    # terminate after the end is a no-op
    running.terminate("too late", 0.1)
    assert running.wait() is result


def test_many_concurrent_runs(tmp_path: Path) -> None:
    runs = [
        start(CommandSpec(f"sh -c 'sleep 0.1; echo run-{i}; exit {i % 3}'"), tmp_path / f"{i}.log")
        for i in range(30)
    ]
    results = [r.wait(timeout=20) for r in runs]
    for i, result in enumerate(results):
        assert result.exit_code == i % 3
        assert (tmp_path / f"{i}.log").read_text() == f"run-{i}\n"


def test_exit_with_background_process_holding_the_pipe_does_not_hang(tmp_path: Path) -> None:
    pidfile = tmp_path / "bg.pid"
    lines: list[str] = []
    t0 = time.monotonic()
    result = run(CommandSpec(f"sh -c 'sleep 30 & echo $! > {pidfile}; echo done'"),
                 tmp_path / "log", on_line=lines.append, drain_timeout=0.3)
    elapsed = time.monotonic() - t0
    try:
        assert result.exit_code == 0 and result.ok
        assert lines == ["done"]
        assert elapsed < 3
        assert "output no longer captured" in (tmp_path / "log").read_text()
    finally:
        os.kill(int(pidfile.read_text()), 9)


def test_log_is_truncated_per_run(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("old content\n")
    run(CommandSpec("echo new"), log)
    assert log.read_text() == "new\n"


def test_child_starts_with_no_blocked_signal_even_from_a_masking_thread(tmp_path: Path) -> None:
    import signal

    lines: list[str] = []

    def masked() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGUSR1})
        run(CommandSpec("grep SigBlk /proc/self/status"), tmp_path / "log", on_line=lines.append)

    worker = threading.Thread(target=masked)
    worker.start()
    worker.join(10)
    assert lines and int(lines[0].split()[1], 16) == 0, lines
