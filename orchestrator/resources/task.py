"""The ``task`` driver's status: n/a, unless ``check`` asks for the last exit code's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.resources.status import Status

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str, str | None]:
    """``check = last_run``: the last exit code's status through ``retcodes`` (a code they
    do not name is warn; a run that left no code is down). ``last_run_warn``: n/a, with
    the last failure as the reason (om3)."""
    if rc["check"] not in ("last_run", "last_run_warn"):
        return Status.NA, "task", None
    last = service.runs.last(rc.rid)
    if last is None:
        return Status.NA, "task", "never ran"
    codes = rc.get("retcodes")
    if last.exit_code is None:
        found = Status.DOWN
    elif codes is None:
        found = Status.UP if last.exit_code == 0 else Status.DOWN
    else:
        found = Status(codes.status(last.exit_code) or "warn")
    if found == Status.UP:
        return Status.UP, "task", None
    reason = f"last run {last.run_id} ended {last.status}" + (
        f" with code {last.exit_code}" if last.exit_code is not None else "")
    return (Status.NA if rc["check"] == "last_run_warn" else found), "task", reason
