"""Evaluate the status of this node's instance of a service, resource by resource."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from orchestrator.resources import registry
from orchestrator.resources.status import Status, merge

if TYPE_CHECKING:
    from orchestrator.service import Service


class ResourceStatus(NamedTuple):
    rid: str
    status: Status
    label: str
    reason: str | None
    optional: bool
    disabled: bool
    extra: dict[str, Any]  # its own dict: views and the daemon add counts to it

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"status": str(self.status), "label": self.label,
                             "optional": self.optional, "disabled": self.disabled}
        if self.reason:
            d["reason"] = self.reason
        d.update(self.extra)
        return d


class InstanceStatus(NamedTuple):
    node: str
    avail: Status
    overall: Status
    resources: dict[str, ResourceStatus]

    def to_dict(self) -> dict[str, Any]:
        return {"avail": str(self.avail), "overall": str(self.overall),
                "resources": {rid: r.to_dict() for rid, r in self.resources.items()}}


def resource_status(service: Service, rid: str) -> ResourceStatus:
    rc = service.resource(rid)
    if rc["disable"]:
        return ResourceStatus(rid, Status.NA, rc.driver, "disabled", rc["optional"], True, {})
    status, label, reason = registry.implementation(rc.driver).status(service, rc)
    extra: dict[str, Any] = {}
    if rc.get("monitor") or rc.get("restart"):  # watched by the resource monitor
        extra = {"monitor": bool(rc.get("monitor")), "restart": int(rc.get("restart") or 0)}
    return ResourceStatus(rid, status, label, reason, rc["optional"], False, extra)


def instance_status(service: Service, rids: list[str] | None = None) -> InstanceStatus:
    """avail merges the resources whose driver counts in avail (app), unless optional or
    disabled. overall is avail, turned to warn when any other resource (optional app, task,
    sync) is warn or down:
    a failed task with ``check = last_run`` or a failed sync shows there."""
    wanted = rids if rids is not None else [r.rid for r in service.resources()]
    statuses = {rid: resource_status(service, rid) for rid in wanted}

    def counts(s: ResourceStatus) -> bool:
        driver = registry.spec(service.resource(s.rid).driver)
        return driver.avail and not s.optional and not s.disabled

    avail = merge(s.status for s in statuses.values() if counts(s))
    overall = avail
    for s in statuses.values():
        if not s.disabled and not counts(s) and s.status in (Status.WARN, Status.DOWN):
            overall = Status.WARN
    return InstanceStatus(service.nodename, avail, overall, statuses)
