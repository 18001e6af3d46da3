"""Where a task's command runs: the executor seam.

A task run asks the executor of its task type to start each of its commands (hooks
included) and gets a ``RunningCommand`` back; everything around it (records, max_parallel,
the fence keeper, relocation) stays the same whatever the executor. ``host`` runs the
command as a process on this node; a container task type (OpenSVC's ``docker``,
``podman``) is one more executor that starts the command inside a container.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from orchestrator.execution.process import RunningCommand
    from orchestrator.execution.spec import CommandSpec


class Executor(Protocol):
    def start(self, spec: CommandSpec, log_path: Path,
              on_line: Callable[[str], None] | None = None) -> RunningCommand:
        """Start the command and return at once (raises before anything runs on bad input)."""
        ...


class HostExecutor:
    """A process on this node, in a session of its own (execution.process)."""

    def start(self, spec: CommandSpec, log_path: Path,
              on_line: Callable[[str], None] | None = None) -> RunningCommand:
        from orchestrator.execution.process import start

        return start(spec, log_path, on_line=on_line)


EXECUTORS: dict[str, Executor] = {"host": HostExecutor()}


def executor_for(task_type: str | None) -> Executor:
    """The executor of a task type (``host`` when the task names none)."""
    return EXECUTORS[task_type or "host"]
