"""What the daemon does when a service's built-in job is due.

``status`` publishes the instance status (and pushes it); ``push_config`` and
``push_resinfo`` push to the collector; ``compliance_auto`` runs the compliance modules
(``fix`` when ``comp_autofix``) and pushes the results; ``sync_all`` copies a sync
resource to the peers with rsync. sync and compliance runs leave run records like tasks
(pushed to the collector by the store ``agent.run_store`` gives).

The node's own jobs (``pushasset``, the node's ``compliance_auto``) are in node_jobs.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from orchestrator.runs import RunRecord, RunStatus, new_run_id

if TYPE_CHECKING:
    from orchestrator.daemon.host import JobHost

log = structlog.get_logger()


def run_builtin(agent: JobHost, svcname: str, action: str, key: str, rid: str | None,
                slot: datetime) -> None:
    from orchestrator.builtins import push

    rt = agent.runtimes.get(svcname)
    if rt is None or rt.service is None:
        return
    svc = rt.service
    client = agent.collector()
    if action == "status":
        inst = agent.publish_status(svcname)
        if client is not None:
            push.push_status(client, svc, frozen=push.target_frozen(rt.target), inst=inst)
        return
    if action == "push_config":
        if client is not None:
            push.push_config(client, svc)
        return
    if action == "push_resinfo":
        if client is not None:
            push.push_resinfo(client, svc)
        return
    started = datetime.now(UTC)
    status, reason = RunStatus.OK, None
    if action == "compliance_auto":
        from orchestrator.builtins.compliance import run_modules

        mode = "fix" if svc.config.defaults["comp_autofix"] else "check"
        results = run_modules(svc, mode)
        bad = [r.module for r in results if r.status in ("nok", "error")]
        if bad:
            status, reason = RunStatus.FAILED, f"not compliant: {', '.join(bad)}"
        if client is not None and results:
            push.push_compliance(client, results)
    elif action == "sync_all" and rid is not None:
        from orchestrator.builtins.sync import sync_resource

        addresses = (agent.peer_addresses() if agent.clustered
                     else {n: n for n in svc.config.nodes})  # standalone: names resolve
        result = sync_resource(svc, svc.resource(rid), addresses)
        if not result.ok:
            status, reason = RunStatus.FAILED, result.reason
        log.info(f"{svcname} {rid}: synchronized to {', '.join(result.copied) or 'no peer'}"
                 + (f"; {result.reason}" if result.reason else ""), svc=svcname)
    else:
        return
    record = RunRecord(new_run_id(started), svcname, key, agent.me, "scheduler", status,
                       scheduled_at=slot, started_at=started, ended_at=datetime.now(UTC),
                       exit_code=0 if status == RunStatus.OK else 1, reason=reason)
    store: Any = agent.run_store(svcname)
    if store is not None:
        store.save(record)  # and pushed to the collector (agent.run_store)
