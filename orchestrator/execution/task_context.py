"""What an executor needs of a task run beyond its command spec (execution.executors)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service


class TaskContext(NamedTuple):
    """The task and its run: a container names itself after them."""

    service: Service
    rc: ResourceConfig
    run_id: str
