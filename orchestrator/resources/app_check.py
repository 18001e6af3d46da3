"""An app's check command, read as om3 reads it: its exit code through ``retcodes``
(``0:up 1:down`` by default, a code not listed is warn), its output lines shown in the
status when ``status_log`` is set, warn when it times out or cannot run, n/a when its
script is not there (a passive node whose filesystem holds it), undef when ``check = true``
names no script (om3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.resources.app_actions import ScriptMissing, ScriptUnset, command_of, timeout_of
from orchestrator.resources.commands import run_resource_command
from orchestrator.resources.status import Status

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

MAX_LOG_LINES = 10  # status_log: the last lines of a check's output in its reason


def has_check(service: Service, rc: ResourceConfig) -> bool:
    """Whether the app's status comes from a check command (or its missing script)."""
    try:
        return command_of(service, rc, "check") is not None
    except ScriptMissing:
        return True


def check(service: Service, rc: ResourceConfig) -> tuple[Status, str | None]:
    """Run the check; its status and the reason shown beside it (None when none)."""
    from orchestrator.errors import OrchestratorError

    try:
        command = command_of(service, rc, "check")
    except ScriptUnset as exc:  # om3: undef, "prepare cmd: unable to get script value"
        return Status.UNDEF, str(exc)
    except ScriptMissing as exc:
        return Status.NA, f"not evaluated: {exc}"
    assert command is not None, "has_check() first"
    lines: list[str] = []
    on_line = lines.append if rc["status_log"] else None
    timeout = timeout_of(rc, "check")
    try:
        result = run_resource_command(service, rc, command, "status", on_line=on_line,
                                      timeout=timeout)
    except OrchestratorError as exc:
        return Status.WARN, f"check command could not run: {exc}"
    if result.timed_out:
        return Status.WARN, _with_log(f"check command timed out after {timeout:g}s", lines)
    word = rc["retcodes"].status(result.exit_code)
    if word is None:
        return Status.WARN, _with_log(
            f"check exited with code {result.exit_code}, not in retcodes ({rc['retcodes']})",
            lines)
    status = Status(word)
    reason = None if status == Status.UP else f"check exited with code {result.exit_code}"
    return status, _with_log(reason, lines)


def _with_log(reason: str | None, lines: list[str]) -> str | None:
    """The reason, then the check's output lines (status_log), one ``; `` apart."""
    kept = [line.strip() for line in lines if line.strip()][-MAX_LOG_LINES:]
    text = "; ".join(([reason] if reason else []) + kept)
    return text or None
