"""A detached start (a simple app's process) is made by the same launch code as any run:
argv (or ``spec.argv``), identity, working directory, environment, run token; and it is
detached: a session of its own, output appended to its log, reasons for a failed start
written there too."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.execution import CommandSpec
from orchestrator.execution.detached import spawn_detached
from orchestrator.execution.environment import RUN_TOKEN_VAR
from orchestrator.execution.errors import CommandStartError


def _wait_exit(proc) -> int:  # noqa: ANN001
    return proc.wait(timeout=10)


def test_runs_the_command_in_a_session_of_its_own_appending_to_its_log(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("earlier\n")
    spec = CommandSpec(f"sh -c 'echo sid=$(cut -d\" \" -f6 /proc/$$/stat) pid=$$; echo cwd=$PWD; "
                       f"echo token=${RUN_TOKEN_VAR}; read x || echo stdin-empty'",
                       cwd=str(tmp_path))
    proc = spawn_detached(spec, log, "tok123")
    assert _wait_exit(proc) == 0
    lines = log.read_text().splitlines()
    assert lines[0] == "earlier"  # appended, not truncated
    sid = int(lines[1].split()[0].split("=")[1])
    assert sid == proc.pid  # the process it started leads a session of its own
    assert lines[2:] == [f"cwd={tmp_path}", "token=tok123", "stdin-empty"]


def test_runs_the_spec_argv_when_given(tmp_path: Path) -> None:
    """An executor's own argv (a container client's) is exec'ed as it is, as by start()."""
    log = tmp_path / "app.log"
    spec = CommandSpec("described only", argv=("/bin/sh", "-c", "echo from-argv"))
    proc = spawn_detached(spec, log, "tok")
    assert _wait_exit(proc) == 0
    assert log.read_text() == "from-argv\n"


def test_a_missing_executable_is_an_error_in_the_log_too(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    with pytest.raises(CommandStartError) as caught:
        spawn_detached(CommandSpec("/nonexistent/app --serve"), log, "tok")
    assert "/nonexistent/app: no such executable" in str(caught.value)
    assert "no such executable" in log.read_text()


def test_a_missing_working_directory_is_named(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    missing = tmp_path / "gone"
    with pytest.raises(CommandStartError) as caught:
        spawn_detached(CommandSpec("/bin/true", cwd=str(missing)), log, "tok")
    assert f"cannot enter working directory '{missing}'" in str(caught.value)
