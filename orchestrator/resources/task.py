"""The ``task`` driver's status: n/a, unless ``check = last_run`` asks for the last exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.resources.status import Status

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str, str | None]:
    if rc["check"] != "last_run":
        return Status.NA, "task", None
    last = service.runs.last(rc.rid)
    if last is None:
        return Status.NA, "task", "never ran"
    if last.exit_code == 0:
        return Status.UP, "task", None
    return Status.DOWN, "task", f"last run {last.run_id} ended {last.status}" + (
        f" with code {last.exit_code}" if last.exit_code is not None else "")
