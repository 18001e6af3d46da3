"""What the scheduler needs from the node agent, declared here so that it does not import the
agent (the agent imports it): the agent is one implementation, the unit tests' small fakes
are others. What each kind of job needs to run is declared with the jobs (jobs.hosts); the
scheduler hands its runners the same host."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol


class ServiceRuntime(Protocol):
    """What the agent knows about one service on this node."""

    name: str
    service: Any  # orchestrator.service.Service, or None while its config is unusable
    started: bool
    target: Any


class SchedulerHost(Protocol):
    """The scheduler's host; it is also the host of the jobs' runners (jobs.hosts)."""

    me: str
    clustered: bool
    coord: Any  # the cluster store (orchestrator.coordination), None standalone
    keeper: Any  # the node's fence keeper link, None standalone
    stop_event: threading.Event
    runtimes: Mapping[str, Any]

    def coord_connected(self) -> bool: ...

    def lease_of(self, svc: str) -> Any:
        """The lease this session holds for ``svc`` (claims are fenced by it), or None."""
        ...

    def run_store(self, svc: str) -> Any: ...

    def local_last(self, svc: str, job: str) -> datetime | None: ...

    def local_set_last(self, svc: str, job: str, when: datetime) -> None: ...

    def flush_records(self) -> None: ...
