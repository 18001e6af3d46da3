"""The scheduling tables ``print schedule`` shows (a service's, the node's): per job its last
run, its next run, or why it will not run. The last run is the scheduler's own: the newest
claim in a cluster, the daemon's ``scheduler.json`` standalone (for a service that the daemon
has never scheduled, the newest run record); why not is ``where.runnable``, the scheduler's
own rule."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from orchestrator.jobs.model import Job, ScheduleEntry, claim_time, job_schedule
from orchestrator.jobs.node_kinds import NodeState
from orchestrator.jobs.registry import node_jobs, service_jobs
from orchestrator.jobs.where import NODE_VIEW, RunView, requirements_why, runnable

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.service import Service

HORIZON = "no allowed time within the search horizon"


def last_run(svc: Service, job: Job) -> datetime | None:
    """The job's last run as the scheduler counts it, else its newest run record."""
    if svc.clustered and svc.claims is not None:
        from orchestrator.coordination import CoordinationError

        try:
            claims = svc.claims(svc.name, job.key, svc.nodename if job.node_scoped else None)
        except CoordinationError:
            claims = []
        if claims:
            return claim_time(claims[-1])
    elif not svc.clustered:
        from orchestrator.service import LocalState

        text = LocalState(svc.var / "scheduler.json").read().get("last", {}).get(job.key)
        if text:
            return datetime.fromisoformat(text)
    record = svc.runs.last(job.key)
    return record.started_at if record else None


def schedule_table(svc: Service, now: datetime) -> list[ScheduleEntry]:
    """The service's table: last run, next run, or why it will not run (on no node)."""
    view = RunView(clustered=svc.clustered, holder=svc.active_node)  # anywhere, not here
    entries = []
    for job in service_jobs(svc):
        last = last_run(svc, job)
        why = runnable(view, job) or requirements_why(svc, job)
        nxt = None
        if job.why_not is None:
            nxt = job_schedule(job).next_run(now, last)
            if nxt is None and why is None:
                why = HORIZON
        runs_on = svc.nodename if job.node_scoped or not svc.clustered else svc.active_node
        entries.append(ScheduleEntry(job, last, nxt, why, runs_on if why is None else None))
    return entries


def node_schedule_table(node: NodeConfig, now: datetime) -> list[dict[str, Any]]:
    """``nodemgr print schedule``: per job its last run and how it ended, and its next run."""
    state = NodeState(node)
    rows = []
    for job in node_jobs(node):
        last = state.last(job.action)
        result = state.result(job.action)
        why = runnable(NODE_VIEW, job)
        nxt = job_schedule(job).next_run(now, last) if job.why_not is None else None
        if nxt is None and why is None:
            why = HORIZON
        rows.append({"action": job.action, "rid": None, "config_parameter": job.config_parameter,
                     "schedule_definition": job.schedule_definition,
                     "last_run": last.isoformat() if last else None,
                     "next_run": nxt.isoformat() if nxt else None,
                     "last_status": result.get("status"), "last_reason": result.get("reason"),
                     "why_not": why, "runs_on": node.nodename if why is None else None})
    return rows
