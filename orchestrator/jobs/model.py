"""What a job is: one schedulable action of a service (or of the node), and what the
scheduler hands its runner when a slot fires.

A ``Job`` carries all the scheduler needs to know about it: its schedule (definition, time
zone, splay key), its misfire policy, whether every instance runs it for itself
(``node_scoped``) and, when it will never run, a sentence saying why. The kinds of job and
their runners are in ``jobs.registry``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.runs import RunRecord, RunStatus
    from orchestrator.schedule import Schedule

NODE = ""  # the node's pseudo-service: node jobs' entries, claims and state are under it


@dataclass(frozen=True)
class Job:
    action: str
    rid: str | None
    config_parameter: str
    schedule_definition: str | None
    why_not: str | None = None  # a job that will never run says why
    node_scoped: bool = False  # every instance runs it for itself: no lease, no failover
    # flex: every *started* instance runs it for itself (claims per node, fenced by the
    # instance slot it holds); always node_scoped too
    instance: bool = False
    tz: str | None = None
    splay_key: str | None = None
    misfire: str = "once"
    misfire_grace: float | None = None  # seconds

    @property
    def key(self) -> str:
        """The job's name in run records and state: the rid, or the action for built-ins."""
        return self.rid or self.action


def job_schedule(job: Job) -> Schedule:
    from orchestrator.schedule import parse

    return parse(job.schedule_definition, tz=job.tz, splay_key=job.splay_key)


@dataclass
class Firing:
    """One slot of one job, claimed and about to run: what its runner gets."""

    svc: str  # NODE for a node job
    job: Job
    slot: datetime  # the slot it runs for
    run_at: datetime  # when the scheduler counts it run (the slot, or now when late)
    epoch: int = 0  # the lease epoch the slot was claimed under (0: none)
    store: Any = None  # where its run record goes (a RunStore-like ``save``)
    running: dict[int, Any] = field(default_factory=dict)  # the commands it runs, by id
    allowed: Callable[[], bool] = lambda: True  # may it still run here (not stopping)?


def builtin_record(firing: Firing, node: str, status: RunStatus, started: datetime,
                   reason: str | None, exit_code: int | None = None,
                   **extra: Any) -> RunRecord:
    """The run record of a built-in job's slot (sync, pushes, compliance, the resource
    monitor, node jobs): the scheduler's run of ``firing`` on ``node``, ended now."""
    from orchestrator.runs import RunRecord, new_run_id

    return RunRecord(new_run_id(started), firing.svc, firing.job.key, node, "scheduler", status,
                     scheduled_at=firing.slot, started_at=started,
                     ended_at=datetime.now(UTC), exit_code=exit_code, reason=reason,
                     extra=extra)


# a kind's runner: (host, firing) -> None; the host is the kind's own narrow Protocol
Runner = Callable[[Any, Firing], None]


@dataclass(frozen=True)
class JobKind:
    """One kind of job: which jobs of it a service (or the node) has, and how one runs."""

    action: str
    owner: str  # "service" or "node": whose jobs these are
    jobs: Callable[[Any], list[Job]]  # (Service or NodeConfig) -> its jobs of this kind
    run: Runner


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


def slot_key(slot: datetime) -> str:
    """A slot's name in the cluster: the same text on every node for the same instant."""
    from datetime import UTC

    return slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def claim_time(claim: Any) -> datetime | None:
    """When a claimed slot counts as run: its payload's run_at (or slot), else its time."""
    from datetime import UTC

    payload = getattr(claim, "payload", None) or {}
    text = payload.get("run_at") or payload.get("slot")
    if text:
        return datetime.fromisoformat(text)
    return datetime.fromtimestamp(claim.claimed_at, UTC)
