"""The node's own job kinds: ``pushasset`` and the node's ``compliance_auto``.

They belong to the node, not to a service: no lease, no claim in ZooKeeper, every node runs
its own, through the daemon's one scheduler (as entries of the node's pseudo-service,
``NODE``) with the same due rule as service jobs: the schedule, then node.conf ``[node]
misfire`` / ``misfire_grace`` for slots missed while the daemon was down. Their schedules are
node.conf ``[node] pushasset_schedule`` and ``comp_schedule`` (``~00:00-06:00`` by default,
splayed per node). The last run of each job is kept in
``<root>/var/lib/orchestrator/node/scheduler.json`` (with how it ended and why), so a restarted
daemon does not run a job again before its schedule says so, and ``nodemgr print schedule``
shows the same last run.

* ``pushasset``: the node's asset facts (``builtins.asset``) pushed as a ``nodes`` item.
  Skipped, with that reason, when no collector is configured.
* ``compliance_auto``: every module of the compliance modules directory run with ``check``
  (node.conf has no autofix keyword), results kept and pushed. Skipped when there is no
  module.

Each run, skip or miss leaves one log sentence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.jobs.model import Firing, Job, JobKind, builtin_record
from orchestrator.log import get_logger
from orchestrator.runs import RunRecord, RunStatus, events

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.jobs.hosts import NodeJobHost

log = get_logger()


class NodeState:
    """``var/lib/orchestrator/node/scheduler.json``: per node job its last run (``last``) and
    how it last ended (``result``). A run store for the scheduler (``save``)."""

    def __init__(self, node: NodeConfig):
        from orchestrator.service import LocalState

        self.path: Path = node.paths.var / "node" / "scheduler.json"
        # node jobs end in pooled threads, side by side: each read-modify-write is whole
        self.state = LocalState(self.path)

    def read(self) -> dict[str, Any]:
        return self.state.read()

    def last(self, action: str) -> datetime | None:
        text = self.read().get("last", {}).get(action)
        try:
            return datetime.fromisoformat(text) if text else None
        except ValueError:
            return None

    def result(self, action: str) -> dict[str, Any]:
        return self.read().get("result", {}).get(action) or {}

    def set_last(self, action: str, when: datetime) -> None:
        self.state.update("last", action, when.isoformat())

    def save(self, record: RunRecord) -> None:
        """How the job ended; a run (not a missed slot) is its last run too, both at once."""

        def edit(data: dict[str, Any]) -> None:
            if record.status != RunStatus.MISSED and record.started_at is not None:
                data.setdefault("last", {})[record.rid] = record.started_at.isoformat()
            data.setdefault("result", {})[record.rid] = {
                "status": str(record.status), "reason": record.reason,
                "at": datetime.now(UTC).isoformat()}

        self.state.modify(edit)
        events.saved(record)  # the agent's metrics count it


def _jobs(action: str, keyword: str) -> Any:
    def jobs(node: NodeConfig) -> list[Job]:
        from orchestrator.schedule import is_unscheduled

        definition = node.get("node", keyword)
        why = "unscheduled" if not definition or is_unscheduled(definition) else None
        return [Job(action, None, f"node.{keyword}", definition, why, node_scoped=True,
                    tz=node.get("node", "tz"), splay_key=f"node/{action}/{node.nodename}",
                    misfire=node.get("node", "misfire"),
                    misfire_grace=node.get("node", "misfire_grace"))]

    return jobs


def _runner(body: Any) -> Any:
    """A node job's runner: the body says (status, sentence); kept in the node's state
    (``firing.store``) and said in one log sentence."""

    def run(host: NodeJobHost, firing: Firing) -> None:
        action = firing.job.action
        try:
            status, sentence = body(host)
        except Exception as exc:  # noqa: BLE001 - recorded like any failure
            status, sentence = "failed", f"failed: {exc!r}"
        reason = None if status == "ok" else sentence
        if firing.store is not None:
            firing.store.save(builtin_record(firing, host.me, RunStatus(status), firing.run_at,
                                             reason))
        say = log.info if status in ("ok", "skipped") else log.warning
        say(f"node {host.me}: {action}: {sentence}", job=action, status=status)

    return run


def pushasset(host: NodeJobHost) -> tuple[str, str]:
    from orchestrator.builtins.asset import asset_facts
    from orchestrator.builtins.push import push_asset

    client = host.collector()
    if client is None:
        return "skipped", ("skipped: no collector configured ([collector] url and token "
                           f"in {host.node.paths.node_conf})")
    facts = asset_facts(host.node)
    result = push_asset(client, host.me, facts)
    return "ok", f"{len(facts)} asset facts {_where(result)}"


def compliance(host: NodeJobHost) -> tuple[str, str]:
    from orchestrator.builtins.compliance import node_modules, run_node_modules
    from orchestrator.builtins.push import push_compliance

    node = host.node
    if not node_modules(node):
        base = node.paths.var / "compliance" / "modules"
        return "skipped", f"skipped: no compliance module in {base}"
    results = run_node_modules(node, "check")
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    bad = [r.module for r in results if r.status in ("nok", "error")]
    client = host.collector()
    if client is None:
        where = "not pushed: no collector configured"
    else:
        where = _where(push_compliance(client, results))
    plural = "" if len(results) == 1 else "s"
    sentence = f"{len(results)} module{plural} checked ({summary}); {where}"
    if bad:
        return "failed", f"not compliant: {', '.join(bad)}; {sentence}"
    return "ok", sentence


# in the order print schedule lists them
KINDS = (
    JobKind("compliance_auto", "node", _jobs("compliance_auto", "comp_schedule"),
            _runner(compliance)),
    JobKind("pushasset", "node", _jobs("pushasset", "pushasset_schedule"), _runner(pushasset)),
)


def _where(result: Any) -> str:
    """Where a node job's push went. A flush that stopped on no error delivered what was
    queued when it began, ours included; what others queued meanwhile (node jobs end side by
    side) is the next flush's, not a delay of ours."""
    if result.error is None:
        return "pushed to the collector"
    return f"queued for the collector ({result.error})"
