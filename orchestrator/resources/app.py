"""The ``app`` driver: start, stop and check commands of an application.

With a ``check`` command the status is its exit code (0 up, else down). Without one, the
status is what this node's last start or stop did (kept in the instance's local state), so
a demo app made of ``/bin/true`` commands still shows up and down.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orchestrator.resources.commands import run_resource_command
from orchestrator.resources.status import Status

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

CHECK_TIMEOUT = 30.0


def _standby(rc: ResourceConfig, status: Status) -> Status:
    if not rc["standby"]:
        return status
    return {Status.UP: Status.STDBY_UP, Status.DOWN: Status.STDBY_DOWN}.get(status, status)


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str, str | None]:
    label = "app" + (" standby" if rc["standby"] else "")
    if rc["check"]:
        from orchestrator.errors import OrchestratorError

        try:
            result = run_resource_command(service, rc, rc["check"], "status",
                                          timeout=rc["timeout"] or CHECK_TIMEOUT)
        except OrchestratorError as exc:
            return Status.WARN, label, f"check command could not run: {exc}"
        if result.timed_out:
            return Status.WARN, label, "check command timed out"
        up = result.exit_code == 0
        reason = None if up else f"check exited with code {result.exit_code}"
        return _standby(rc, Status.UP if up else Status.DOWN), label, reason
    started = service.state.read().get("apps", {}).get(rc.rid, False)
    return _standby(rc, Status.UP if started else Status.DOWN), label, None


def _act(service: Service, rc: ResourceConfig, action: str,
         on_line: Callable[[str], None] | None) -> str | None:
    """Run the start or stop command; return an error sentence, or None on success."""
    from orchestrator.errors import OrchestratorError

    command = rc[action]
    if command:
        try:
            result = run_resource_command(service, rc, command, action, on_line=on_line)
        except OrchestratorError as exc:
            return f"{action} command could not run: {exc}"
        if result.timed_out:
            return f"{action} command timed out"
        if result.exit_code != 0:
            return f"{action} command exited with code {result.exit_code}"
    service.state.update("apps", rc.rid, action == "start")
    return None


def start(service: Service, rc: ResourceConfig,
          on_line: Callable[[str], None] | None = None) -> str | None:
    return _act(service, rc, "start", on_line)


def stop(service: Service, rc: ResourceConfig,
         on_line: Callable[[str], None] | None = None) -> str | None:
    return _act(service, rc, "stop", on_line)
