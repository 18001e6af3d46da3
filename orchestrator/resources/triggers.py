"""What runs around a resource's start or stop, in om3's order (core/resource Start/Stop):
its ``start_requires``/``stop_requires`` first, then ``blocking_pre_<action>`` (its failure
fails the action), ``pre_<action>`` (its failure is logged), the action itself, then
``blocking_post_<action>`` and ``post_<action>``. A failed action runs no post hook.

A driver that has these keywords wraps its start and stop with :func:`around`; hooks run
with the resource's user, environment and limits, each logging to ``<rid>.<hook>.log``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orchestrator.log import get_logger

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

Action = Callable[[], str | None]


def unmet_requirement(service: Service, rc: ResourceConfig, action: str) -> str | None:
    """Why ``<action>_requires`` is not met now, or None (om3 fails the action then)."""
    from orchestrator.resources.instance import resource_status

    for req in rc.get(f"{action}_requires") or ():
        if req.rid not in service.config.resources:
            return f"{action}_requires {req}: no resource {req.rid} in this service"
        current = str(resource_status(service, req.rid).status)
        if current not in req.states:
            return (f"{action} requires {req.rid} in ({', '.join(req.states)}), "
                    f"but it is {current}")
    return None


def run_hook(service: Service, rc: ResourceConfig, name: str, timeout: float | None,
             on_line: Callable[[str], None] | None) -> str | None:
    """Run the hook keyword ``name`` if set; why it failed, or None."""
    from orchestrator.resources.commands import run_step

    command = rc.get(name)
    if not command:
        return None
    action = name.rsplit("_", 1)[-1]
    get_logger().bind(svc=service.name, rid=rc.rid).info(f"{name}: {command}")
    return run_step(service, rc, command, action, name, on_line, timeout, step=name)


def around(service: Service, rc: ResourceConfig, action: str, act: Action,
           timeout: float | None, on_line: Callable[[str], None] | None = None) -> str | None:
    """Run ``act`` (the driver's start or stop) with its requirements and hooks; the first
    error sentence that fails the action, or None."""
    log = get_logger().bind(svc=service.name, rid=rc.rid)
    error = unmet_requirement(service, rc, action)
    if error:
        return error
    for blocking in (True, False):
        name = f"{'blocking_' if blocking else ''}pre_{action}"
        error = run_hook(service, rc, name, timeout, on_line)
        if error and blocking:
            return error
        if error:
            log.warning(error)
    error = act()
    if error:
        return error
    for blocking in (True, False):
        name = f"{'blocking_' if blocking else ''}post_{action}"
        error = run_hook(service, rc, name, timeout, on_line)
        if error and blocking:
            return error
        if error:
            log.warning(error)
    return None
