"""A service's scheduling table: the built-in jobs every service gets, plus one job per task.

Each job knows the config parameter that sets its schedule, its definition, and, when it
will not run, a sentence saying why. The daemon's scheduler and ``print schedule`` both
read this table, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.service import Service

# (action, DEFAULT keyword) of the built-in jobs, in OpenSVC's order
BUILTIN_JOBS = (
    ("compliance_auto", "comp_schedule"),
    ("push_config", "config_schedule"),
    ("push_resinfo", "resinfo_schedule"),
    ("status", "status_schedule"),
)


@dataclass(frozen=True)
class Job:
    action: str
    rid: str | None
    config_parameter: str
    schedule_definition: str | None
    why_not: str | None = None  # a job that will never run says why

    @property
    def key(self) -> str:
        """The job's name in run records and state: the rid, or the action for built-ins."""
        return self.rid or self.action


@dataclass(frozen=True)
class ScheduleEntry:
    job: Job
    last_run: datetime | None
    next_run: datetime | None
    why_not: str | None
    runs_on: str | None = None  # the node that runs it: the active one, or this one

    @property
    def action(self) -> str:
        return self.job.action

    @property
    def config_parameter(self) -> str:
        return self.job.config_parameter

    @property
    def schedule_definition(self) -> str | None:
        return self.job.schedule_definition

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.job.action,
            "rid": self.job.rid,
            "config_parameter": self.job.config_parameter,
            "schedule_definition": self.job.schedule_definition,
            "last_run": self.last_run.isoformat() if self.last_run else None,
            "next_run": self.next_run.isoformat() if self.next_run else None,
            "why_not": self.why_not,
            "runs_on": self.runs_on,
        }


def service_jobs(svc: Service) -> list[Job]:
    """Every job of the service, built-in and task, in a stable order."""
    from orchestrator.schedule import is_unscheduled

    defaults = svc.config.defaults
    jobs = [Job(action, None, f"DEFAULT.{kw}", defaults[kw]) for action, kw in BUILTIN_JOBS]
    for rc in svc.resources("sync"):
        if rc["schedule"] is not None:
            param, definition = f"{rc.rid}.schedule", rc["schedule"]
        else:
            param, definition = "DEFAULT.sync_schedule", defaults["sync_schedule"]
        why = "disabled" if rc["disable"] else None
        jobs.append(Job("sync_all", rc.rid, param, definition, why))
    for rc in svc.tasks():
        if rc["schedule"] is not None:
            param, definition = f"{rc.rid}.schedule", rc["schedule"]
        else:
            param, definition = "DEFAULT.run_schedule", defaults["run_schedule"]
        why = None
        if rc["disable"]:
            why = "disabled"
        elif rc["confirmation"]:
            why = "confirmation task: never scheduled"
        elif definition is None or is_unscheduled(definition):
            why = "unscheduled"
        jobs.append(Job("run", rc.rid, param, definition, why))
    if not svc.node.get("collector", "url"):
        jobs = [Job(j.action, j.rid, j.config_parameter, j.schedule_definition,
                    "no collector configured ([collector] url in node.conf)")
                if j.action in ("push_config", "push_resinfo") and j.why_not is None else j
                for j in jobs]
    for i, job in enumerate(jobs):
        if job.why_not is None and (job.schedule_definition is None
                                    or is_unscheduled(job.schedule_definition)):
            jobs[i] = Job(job.action, job.rid, job.config_parameter, job.schedule_definition,
                          "unscheduled")
    return jobs


def node_scoped(svc: Service, job: Job) -> bool:
    """Jobs every instance runs for itself (status, tasks with run_requires); the others run
    only on the active instance of a failover service."""
    if job.action == "status":
        return True
    return bool(job.rid and job.rid.startswith("task#") and svc.resource(job.rid)["run_requires"])


def job_schedule(svc: Service, job: Job):  # -> Schedule
    from orchestrator.schedule import parse

    return parse(job.schedule_definition, tz=svc.config.defaults["tz"],
                 splay_key=f"{svc.name}/{job.key}/{svc.nodename}")


def schedule_table(svc: Service, now: datetime) -> list[ScheduleEntry]:
    """The table ``print schedule`` shows: last run, next run, or why it will not run."""
    from orchestrator.taskrun import unmet_requirements

    entries = []
    for job in service_jobs(svc):
        last_record = svc.runs.last(job.key)
        last = last_record.started_at if last_record else None
        why = job.why_not
        if why is None and job.rid and job.rid.startswith("task#"):
            unmet = unmet_requirements(svc, svc.resource(job.rid))
            if unmet:
                why = "requirements not met: " + "; ".join(unmet)
        if why is None and svc.clustered and svc.active_node is None and not node_scoped(svc, job):
            why = "not the active instance: the service is active on no node"
        nxt = None
        if job.why_not is None:
            nxt = job_schedule(svc, job).next_run(now, last)
            if nxt is None and why is None:
                why = "no allowed time within the search horizon"
        runs_on = (svc.nodename if node_scoped(svc, job) or not svc.clustered
                   else svc.active_node)
        entries.append(ScheduleEntry(job, last, nxt, why, runs_on if why is None else None))
    return entries
