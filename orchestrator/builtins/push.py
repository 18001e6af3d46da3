"""The collector pushes of a service's built-in jobs (status, push_config, push_resinfo,
compliance results, run records) and the node's asset push. Each builds the items and hands
them to the node's PushClient, whose on-disk queue survives a collector outage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.collector.client import PushClient
    from orchestrator.service import Service


def status_item(svc: Service, frozen: bool = False, inst: Any = None) -> dict[str, Any]:
    """The status push item; ``inst`` reuses a status just evaluated (check commands run once)."""
    if inst is None:
        from orchestrator.resources.instance import instance_status

        inst = instance_status(svc)
    return {"service": svc.name, "avail": str(inst.avail), "overall": str(inst.overall),
            "frozen": frozen,
            "resources": {rid: r.to_dict() for rid, r in inst.resources.items()}}


def push_status(client: PushClient, svc: Service, frozen: bool = False,
                inst: Any = None) -> Any:
    return client.push("status", [status_item(svc, frozen, inst)])


def push_config(client: PushClient, svc: Service) -> Any:
    return client.push("config", [{"service": svc.name, "text": svc.config.text}])


def resinfo_items(svc: Service) -> list[dict[str, Any]]:
    """Key/values per resource: its driver and settings, plus what an app's ``info``
    command prints as ``key: value`` lines."""
    from orchestrator.errors import OrchestratorError
    from orchestrator.resources.commands import run_resource_command

    items = []
    for rc in svc.resources():
        items.append({"service": svc.name, "rid": rc.rid, "key": "driver", "value": rc.driver})
        for key in ("command", "schedule", "src", "dst", "start", "stop", "check"):
            value = rc.get(key)
            if value:
                items.append({"service": svc.name, "rid": rc.rid, "key": key,
                              "value": str(value)})
        if rc.driver == "app" and rc.get("info") and not rc["disable"]:
            try:
                res = run_resource_command(svc, rc, rc["info"], "info", timeout=30.0)
                text = res.log_path.read_text(errors="replace")
            except (OrchestratorError, OSError):
                continue
            for line in text.splitlines():
                key, sep, value = line.partition(":")
                if sep and key.strip():
                    items.append({"service": svc.name, "rid": rc.rid, "key": key.strip(),
                                  "value": value.strip()})
    return items


def push_resinfo(client: PushClient, svc: Service) -> Any:
    return client.push("resinfo", resinfo_items(svc))


def push_compliance(client: PushClient, results: list[Any]) -> Any:
    return client.push("compliance", [r.to_dict() for r in results])


def push_asset(client: PushClient, node: str, facts: dict[str, Any]) -> Any:
    return client.push("nodes", [{"node": node, "asset": facts}])
