"""``type = forking`` (the default): start and stop are commands that return once the app
runs or is gone (a daemon forks). As in om3, a start whose check already says up and a stop
whose check already says down run nothing. Without a check, the status is what this node's
last start or stop did (kept in the instance's local state), so an app made of commands
that leave no trace still shows up and down (om3 shows n/a)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orchestrator.log import get_logger
from orchestrator.resources.app_actions import ScriptMissing, ScriptUnset, command_of, timeout_of
from orchestrator.resources.app_check import check, has_check
from orchestrator.resources.commands import run_step
from orchestrator.resources.status import Status

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str | None]:
    if has_check(service, rc):
        return check(service, rc)
    started = service.state.read().get("apps", {}).get(rc.rid, False)
    return (Status.UP if started else Status.DOWN), None


def run_action(service: Service, rc: ResourceConfig, action: str,
               on_line: Callable[[str], None] | None) -> str | None:
    """Run the start or stop command; an error sentence, or None on success."""
    log = get_logger().bind(svc=service.name, rid=rc.rid)
    try:
        command = command_of(service, rc, action)
    except ScriptMissing as exc:
        if action == "stop":  # v2: nothing to stop where the launcher is not there
            # script not set: om3 fails the app's stop, and a service's stop ignores that
            say = log.warning if isinstance(exc, ScriptUnset) else log.info
            say(f"stop runs nothing: {exc}")
            service.state.update("apps", rc.rid, False)
            return None
        return f"{action} command cannot run: {exc}"
    if command and has_check(service, rc):
        current, _ = check(service, rc)
        if (action, current) in (("start", Status.UP), ("stop", Status.DOWN)):
            log.info(f"already {current}, {action} command not run")
            service.state.update("apps", rc.rid, action == "start")
            return None
    if command:
        if command != rc.get(action):
            log.info(f"run: {command}")
        error = run_step(service, rc, command, action, f"{action} command", on_line,
                         timeout_of(rc, action))
        if error:
            return error
    service.state.update("apps", rc.rid, action == "start")
    return None
