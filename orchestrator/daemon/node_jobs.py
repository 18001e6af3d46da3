"""Node-level jobs: ``pushasset`` and the node's ``compliance_auto``, run by every node's daemon.

They belong to the node, not to a service: no lease, no claim in ZooKeeper, every node runs
its own. Their schedules are node.conf ``[node] pushasset_schedule`` and ``comp_schedule``
(``~00:00-06:00`` by default, splayed per node). The last run of each job is kept in
``<root>/var/lib/orchestrator/node/scheduler.json`` (with how it ended and why), so a restarted
daemon does not run a job again before its schedule says so, and ``nodemgr print schedule``
shows the same last run.

* ``pushasset``: the node's asset facts (``builtins.asset``) pushed as a ``nodes`` item.
  Skipped, with that reason, when no collector is configured.
* ``compliance_auto``: every module of the compliance modules directory run with ``check``
  (node.conf has no autofix keyword), results kept and pushed. Skipped when there is no
  module.

A slot that passed while the daemon was down (or busy) is not run late: the job waits for
the next time its schedule allows from now (a window: now if it is open), and the missed
slot is logged and recorded. Each run, skip or miss leaves one log sentence. A thread of
its own, so a long compliance run never delays the agent's loop (the collector queue is
retried by the agent's courier, ``collector.courier``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.push.client import PushClient
    from orchestrator.schedule import Schedule

log = structlog.get_logger()

# (action, [node] keyword), in the order print schedule lists them
NODE_JOBS = (("compliance_auto", "comp_schedule"), ("pushasset", "pushasset_schedule"))
ON_TIME = timedelta(seconds=5)
_SECOND = timedelta(seconds=1)


def state_path(node: NodeConfig) -> Path:
    return node.paths.var / "node" / "scheduler.json"


def read_state(node: NodeConfig) -> dict[str, Any]:
    try:
        data = json.loads(state_path(node).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def last_run(node: NodeConfig, action: str) -> datetime | None:
    text = read_state(node).get("last", {}).get(action)
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def job_schedule(node: NodeConfig, action: str) -> Schedule | None:
    """The job's parsed schedule; None when unscheduled (empty, ``@0``)."""
    from orchestrator.schedule import is_unscheduled, parse

    keyword = dict(NODE_JOBS)[action]
    definition = node.get("node", keyword)
    if not definition or is_unscheduled(definition):
        return None
    return parse(definition, tz=node.get("node", "tz"),
                 splay_key=f"node/{action}/{node.nodename}")


def schedule_table(node: NodeConfig, now: datetime) -> list[dict[str, Any]]:
    """``nodemgr print schedule``: per job its last run and how it ended, and its next run."""
    state = read_state(node)
    rows = []
    for action, keyword in NODE_JOBS:
        last = last_run(node, action)
        result = state.get("result", {}).get(action) or {}
        schedule = job_schedule(node, action)
        nxt = schedule.next_run(now, last) if schedule is not None else None
        why = None
        if schedule is None:
            why = "unscheduled"
        elif nxt is None:
            why = "no allowed time within the search horizon"
        rows.append({"action": action, "rid": None, "config_parameter": f"node.{keyword}",
                     "schedule_definition": node.get("node", keyword),
                     "last_run": last.isoformat() if last else None,
                     "next_run": nxt.isoformat() if nxt else None,
                     "last_status": result.get("status"), "last_reason": result.get("reason"),
                     "why_not": why, "runs_on": node.nodename if why is None else None})
    return rows


@dataclass
class _Job:
    action: str
    schedule: Schedule
    last: datetime | None
    due: datetime | None = None
    ended: bool = False  # the schedule allows no later run: nothing more to do


class NodeJobs:
    """The thread that runs this node's node-level jobs when due."""

    def __init__(self, node: NodeConfig, collector: Callable[[], PushClient | None],
                 stop_event: threading.Event):
        self.node = node
        self.me = node.nodename
        self.collector = collector
        self.stop_event = stop_event
        self.jobs: list[_Job] = []
        for action, _ in NODE_JOBS:
            schedule = job_schedule(node, action)
            if schedule is None:
                log.info(f"node {self.me}: {action}: unscheduled (node.conf "
                         f"{dict(NODE_JOBS)[action]}), not running it")
                continue
            self.jobs.append(_Job(action, schedule, last_run(node, action)))
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self.loop, name="node jobs", daemon=True)
        self.thread.start()

    def loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                wait = self.tick(datetime.now(UTC))
            except Exception as exc:  # noqa: BLE001 - the node jobs must survive anything
                log.exception(f"node {self.me}: node jobs: tick failed: {exc!r}")
                wait = 1.0
            self.stop_event.wait(max(0.05, min(wait, 1.0)))

    def tick(self, now: datetime) -> float:
        """Run what is due (one job after the other); return seconds until the next slot."""
        wait = 1.0
        for job in self.jobs:
            if job.ended:
                continue
            if job.due is None:
                job.due = (job.schedule.next_run(now.replace(microsecond=0), None)
                           if job.last is None
                           else job.schedule.next_run(job.last + _SECOND, job.last))
            if job.due is None:
                job.ended = True
                log.info(f"node {self.me}: {job.action}: no allowed time within the search "
                         "horizon, not running it", job=job.action)
                continue
            if job.due > now:
                wait = min(wait, (job.due - now).total_seconds())
                continue
            if now - job.due > ON_TIME:
                allowed = job.schedule.next_run(now.replace(microsecond=0), job.last)
                if allowed is None or allowed > now:
                    self.missed(job, now, allowed)
                    continue
                run_at = now
            else:
                run_at = job.due
            self.run(job, run_at)
            job.last = run_at
            job.due = job.schedule.next_run(run_at + _SECOND, run_at)
        return wait

    # ------------------------------------------------------------------ one job

    def run(self, job: _Job, slot: datetime) -> None:
        run = self.pushasset if job.action == "pushasset" else self.compliance
        try:
            status, sentence = run()
        except Exception as exc:  # noqa: BLE001 - recorded like any failure
            status, sentence = "failed", f"failed: {exc!r}"
        reason = None if status == "ok" else sentence
        self.record(job.action, slot, status, reason)
        say = log.info if status in ("ok", "skipped") else log.warning
        say(f"node {self.me}: {job.action}: {sentence}", job=job.action, status=status)

    def missed(self, job: _Job, now: datetime, allowed: datetime | None) -> None:
        assert job.due is not None
        reason = (f"slot {job.due.isoformat()} passed while the node agent was down or busy; "
                  + (f"next run {allowed.isoformat()}" if allowed else "no later slot"))
        self.record(job.action, None, "missed", reason)
        log.warning(f"node {self.me}: {job.action}: {reason}", job=job.action, status="missed")
        job.due = allowed
        job.ended = allowed is None

    def pushasset(self) -> tuple[str, str]:
        from orchestrator.builtins.asset import asset_facts
        from orchestrator.builtins.push import push_asset

        client = self.collector()
        if client is None:
            return "skipped", ("skipped: no collector configured ([collector] url and token "
                               f"in {self.node.paths.node_conf})")
        facts = asset_facts(self.node)
        result = push_asset(client, self.me, facts)
        where = ("pushed to the collector" if result.ok
                 else f"queued for the collector ({result.error})")
        return "ok", f"{len(facts)} asset facts {where}"

    def compliance(self) -> tuple[str, str]:
        from orchestrator.builtins.compliance import node_modules, run_node_modules
        from orchestrator.builtins.push import push_compliance

        if not node_modules(self.node):
            base = self.node.paths.var / "compliance" / "modules"
            return "skipped", f"skipped: no compliance module in {base}"
        results = run_node_modules(self.node, "check")
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        bad = [r.module for r in results if r.status in ("nok", "error")]
        client = self.collector()
        if client is None:
            where = "not pushed: no collector configured"
        else:
            result = push_compliance(client, results)
            where = ("pushed to the collector" if result.ok
                     else f"queued for the collector ({result.error})")
        plural = "" if len(results) == 1 else "s"
        sentence = f"{len(results)} module{plural} checked ({summary}); {where}"
        if bad:
            return "failed", f"not compliant: {', '.join(bad)}; {sentence}"
        return "ok", sentence

    def record(self, action: str, slot: datetime | None, status: str,
               reason: str | None) -> None:
        """Keep the last run (when it ran) and how the job last ended, atomically."""
        path = state_path(self.node)
        data = read_state(self.node)
        if slot is not None:
            data.setdefault("last", {})[action] = slot.isoformat()
        data.setdefault("result", {})[action] = {
            "status": status, "reason": reason, "at": datetime.now(UTC).isoformat()}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, path)
