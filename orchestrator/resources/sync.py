"""The ``sync`` driver's status: n/a until it has run; warn, with the reason, if the last
synchronization failed (data copying itself lives with the built-in sync job)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.resources.status import Status

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str, str | None]:
    label = f"sync {rc['type']}"
    last = service.state.read().get("syncs", {}).get(rc.rid)
    if not last:
        return Status.NA, label, "never synchronized"
    if last.get("ok"):
        return Status.UP, label, None
    return Status.WARN, label, last.get("reason") or "last synchronization failed"
