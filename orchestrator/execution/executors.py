"""Where a task's command runs: the executor seam.

A task run asks the executor of its task type to start its command and gets a
``RunningCommand`` back (or an object with its surface: pid, run_token, poll, done, wait,
terminate); everything around it (records, max_parallel, the fence keeper, relocation)
stays the same whatever the executor. ``host`` runs the command as a process on this node;
``docker``, ``podman`` and ``oci`` run it in a container (execution.container_executor).
A task's hooks (pre_run, post_run, on_error ...) always run on the host.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from orchestrator.execution.task_context import TaskContext

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.execution.process import RunningCommand
    from orchestrator.execution.spec import CommandSpec
    from orchestrator.service import Service


class Executor(Protocol):
    def start(self, spec: CommandSpec, log_path: Path,
              on_line: Callable[[str], None] | None = None,
              task: TaskContext | None = None) -> RunningCommand:
        """Start the command and return at once (raises before anything runs on bad input)."""
        ...

    def record_extra(self, service: Service, rc: ResourceConfig, run_id: str
                     ) -> dict[str, Any]:
        """What the run's record keeps about where it runs (the fence keeper reads it)."""
        ...


class HostExecutor:
    """A process on this node, in a session of its own (execution.process)."""

    def start(self, spec: CommandSpec, log_path: Path,
              on_line: Callable[[str], None] | None = None,
              task: TaskContext | None = None) -> RunningCommand:
        from orchestrator.execution.process import start

        return start(spec, log_path, on_line=on_line)

    def record_extra(self, service: Service, rc: ResourceConfig, run_id: str
                     ) -> dict[str, Any]:
        return {}


CONTAINER_TYPES = ("docker", "podman", "oci")
EXECUTORS: dict[str, Executor] = {"host": HostExecutor()}


def executor_for(task_type: str | None) -> Executor:
    """The executor of a task type (``host`` when the task names none). Container
    executors are made when first asked for: a host task's ``svcmgr run`` does not pay
    for importing the engine code."""
    kind = task_type or "host"
    if kind not in EXECUTORS and kind in CONTAINER_TYPES:
        from orchestrator.execution.container_executor import ContainerExecutor

        EXECUTORS[kind] = ContainerExecutor(kind)
    return EXECUTORS[kind]
