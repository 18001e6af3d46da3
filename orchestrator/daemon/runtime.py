"""What this node knows and does about one service, and the explicit states its instance
goes through (in the spirit of supervisor's ``states.py``): every start, stop and fence is
one named transition, and a transition the table does not allow is a bug, logged, never
silently taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from orchestrator.log import get_logger

if TYPE_CHECKING:
    from orchestrator.coordination import Lease
    from orchestrator.service import Service

log = get_logger()


class InstanceState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"  # the fence keeper guards it, its resources are starting
    STARTED = "started"
    STOPPING = "stopping"
    START_FAILED = "start failed"  # being stopped again, this node marked failed for it
    FENCED = "fenced"  # stopped by the fence keeper (hung agent or lost ZooKeeper)


S = InstanceState
TRANSITIONS: dict[InstanceState, frozenset[InstanceState]] = {
    S.STOPPED: frozenset({S.STARTING, S.STARTED}),  # STARTED: found up locally
    S.STARTING: frozenset({S.STARTED, S.START_FAILED, S.FENCED}),
    S.STARTED: frozenset({S.STOPPING, S.FENCED, S.STOPPED}),  # STOPPED: found down locally
    S.STOPPING: frozenset({S.STOPPED, S.FENCED}),
    S.START_FAILED: frozenset({S.STOPPED}),
    S.FENCED: frozenset({S.STARTING, S.STOPPED, S.STARTED}),
}
RUNNING = frozenset({S.STARTING, S.STARTED})  # the scheduler may run tasks of it (STARTED)


@dataclass
class Runtime:
    """What this node knows and does about one service."""

    name: str
    text: str | None = None
    service: Service | None = None
    state: InstanceState = InstanceState.STOPPED
    last_sentence: str | None = None
    published_at: float = 0.0
    error: str | None = None
    read_at: float | None = None  # when lease/target/epoch were last read (monotonic)
    published_doc: dict[str, Any] | None = None  # the instance status last written
    written_at: float = 0.0
    lease: Lease | None = None
    target: dict[str, Any] | None = None
    epoch: int | None = None
    history: list[tuple[InstanceState, str]] = field(default_factory=list)
    monitor: Any = None  # the resource monitor's restart marks (jobs.monitor_plan.Marks)
    stop_failed: bool = False  # the last stop of its resources failed
    slots: dict[int, Lease] | None = None  # flex: instance slot -> its lease, as last read
    watched_slots: set[str] = field(default_factory=set)  # flex: slot leases watched

    @property
    def started(self) -> bool:
        """Its resources are started here (tasks may run, placement counts it as up)."""
        return self.state is InstanceState.STARTED

    def move(self, to: InstanceState, why: str) -> None:
        """Take one transition of the table; a disallowed one is logged and taken anyway
        (the node's real state wins over the table), so the log shows the bug."""
        if to is self.state:
            return
        if to not in TRANSITIONS[self.state]:
            log.error(f"{self.name}: unexpected instance transition {self.state} -> {to} "
                      f"({why})", svc=self.name)
        self.history = [*self.history[-19:], (to, why)]
        self.state = to

    def found(self, up: bool, why: str) -> None:
        """What the node's own resources say, at load or after a fence report."""
        self.move(InstanceState.STARTED if up else InstanceState.STOPPED, why)
