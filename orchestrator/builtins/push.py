"""The collector pushes of a service's built-in jobs (status, push_config, push_resinfo,
compliance results, run records) and the node's asset push. Each builds the items and hands
them to the node's PushClient, whose on-disk queue survives a collector outage.

Run records: the daemon wraps its run stores in ``PushingRunStore``, so every record it saves
(task runs, skipped, refused, missed slots, compliance and sync runs) is pushed as it is
saved (queued, then delivered by the courier thread); ``svcmgr run`` pushes the records of its tasks with ``push_run_records`` when it ends,
waiting at most ``CLI_PUSH_BUDGET`` seconds for the collector.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from orchestrator.log import get_logger

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.push.client import FlushResult, PushClient
    from orchestrator.push.courier import Courier
    from orchestrator.runs import RunRecord
    from orchestrator.service import Service

log = get_logger("collector.push")
CLI_PUSH_BUDGET = 2.0  # seconds svcmgr run may spend on the collector, at most


def target_frozen(target: Any) -> bool:
    """Whether a service's cluster target (its ZooKeeper document, None standalone) says
    frozen: ``svcmgr freeze`` sets it, and only a cluster has one."""
    return bool((target or {}).get("frozen", False))


def status_item(svc: Service, frozen: bool = False, inst: Any = None) -> dict[str, Any]:
    """The status push item; ``inst`` reuses a status just evaluated (check commands run once);
    ``frozen`` is the target's flag (``target_frozen``)."""
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
            from orchestrator.resources.app_actions import ScriptMissing, command_of, timeout_of

            try:
                info = command_of(svc, rc, "info")  # `info = true`: `script info`
                if not info:
                    continue
                res = run_resource_command(svc, rc, info, "info", timeout=timeout_of(rc, "info"),
                                           step="info")
                text = res.log_path.read_text(errors="replace")
            except (OrchestratorError, OSError, ScriptMissing):
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


class PushingRunStore:
    """A run store that also queues every final record it saves for the collector (the
    daemon's stores); the courier delivers them, so saving never waits for the collector.

    Everything else is the wrapped store's. A push that cannot even be queued (queue dir
    unwritable) is logged; the record itself is saved first and never lost.
    """

    def __init__(self, store: Any, courier: Courier):
        self.store = store
        self.courier = courier

    def save(self, record: RunRecord) -> bool | None:
        """The wrapped store's answer (False: the run had a final record already, which
        was pushed when it was saved)."""
        from orchestrator.runs import RunStatus

        written = self.store.save(record)
        if record.status == RunStatus.RUNNING or written is False:
            return written
        self._push([record])
        return written

    def finish_stale(self) -> list[RunRecord]:
        stale = self.store.finish_stale()
        if stale:
            self._push(stale)
        return stale

    def _push(self, records: list[RunRecord]) -> None:
        try:
            self.courier.send("runs", records)
        except OSError as exc:
            log.error("run record not queued for the collector",
                      run_ids=[r.run_id for r in records], error=str(exc))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def push_run_records(node: NodeConfig, records: Sequence[RunRecord],
                     budget: float = CLI_PUSH_BUDGET) -> FlushResult | None:
    """Queue a command's run records and try to deliver them within ``budget`` seconds.

    None when there is nothing to push or no collector configured. Never raises: a
    collector that is down or slow leaves the records queued on disk, delivered by the next
    push (the daemon's, or the next ``svcmgr run``).
    """
    if not records or not node.get("collector", "url"):
        return None  # and the client (urllib) is not even imported
    from orchestrator.push.client import PushClient

    try:
        client = PushClient.from_node_config(node, timeout=budget)
        if client is None:
            return None
        client.enqueue("runs", records)
        return client.flush(deadline=time.monotonic() + budget)
    except OSError as exc:
        log.error("run records not queued for the collector", error=str(exc),
                  runs=len(records))
        return None
