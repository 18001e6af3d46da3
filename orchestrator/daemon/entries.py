"""One schedulable job of one service (or of the node) on this node, as the scheduler and its
ledger keep it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.jobs.model import Job
    from orchestrator.schedule import Schedule


@dataclass
class Entry:
    """One schedulable job of one service on this node."""

    svc: str
    job: Job
    schedule: Schedule
    node_scoped: bool
    policy: str
    grace: timedelta | None
    last: datetime | None = None
    last_known: bool = False  # last read from the cluster since we became able to run it
    due: datetime | None = None
    claims: int = 0
    running: dict[str, Any] = field(default_factory=dict)  # run_id -> RunningCommand
    first_due_shared: bool = False  # a never-run job's first slot is in the cluster's state
    label: str = ""  # how log sentences name it; default "<svc> <job>"
    cause: str = "while no node could run the job"  # why slots get missed, for the records
    said_never: bool = False  # "no allowed time within the horizon" was logged

    @property
    def name(self) -> str:
        return self.label or f"{self.svc} {self.key}"

    @property
    def key(self) -> str:
        return self.job.key
