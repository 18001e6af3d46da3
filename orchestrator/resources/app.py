"""The ``app`` driver, types ``forking`` (commands that return: app_forking.py) and
``simple`` (a foreground process the agent starts and tracks: app_simple.py).

Both read their commands the same way (``start = true`` with ``script`` is ``script
start``: app_actions.py), check the same way (retcodes, status_log: app_check.py) and run
their requirements and pre/post hooks around start and stop (triggers.py), so a restart by
the resource monitor and a stop by the fence keeper, which call these functions directly,
run them too. ``start_key`` orders the apps by their start numbers (the lifecycle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orchestrator.log import get_logger
from orchestrator.resources import app_forking, app_simple
from orchestrator.resources.app_actions import start_key, timeout_of
from orchestrator.resources.status import Status, as_standby
from orchestrator.resources.triggers import around

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

__all__ = ["start", "start_key", "status", "stop"]


def _label(rc: ResourceConfig) -> str:
    """om3's label: the driver type, then desc (``simple rpc.idmapd``)."""
    return " ".join(w for w in (rc["type"], rc.get("desc"),
                                "standby" if rc["standby"] else None) if w)


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str, str | None]:
    impl = app_simple if rc["type"] == "simple" else app_forking
    current, reason = impl.status(service, rc)
    return as_standby(rc["standby"], current), _label(rc), reason


def _ignored_environment(service: Service, rc: ResourceConfig) -> None:
    for keyword in ("configs_environment", "secrets_environment"):
        if rc.get(keyword):
            get_logger().bind(svc=service.name, rid=rc.rid).warning(
                f"{keyword} ignored: there are no config or secret objects here")


def start(service: Service, rc: ResourceConfig,
          on_line: Callable[[str], None] | None = None) -> str | None:
    _ignored_environment(service, rc)
    if rc["type"] == "simple":
        def act() -> str | None:
            return app_simple.start(service, rc, on_line)
    else:
        def act() -> str | None:
            return app_forking.run_action(service, rc, "start", on_line)
    return around(service, rc, "start", act, timeout_of(rc, "start"), on_line)


def stop(service: Service, rc: ResourceConfig,
         on_line: Callable[[str], None] | None = None) -> str | None:
    if rc["type"] == "simple":
        def act() -> str | None:
            return app_simple.stop(service, rc, on_line)
    else:
        def act() -> str | None:
            return app_forking.run_action(service, rc, "stop", on_line)
    return around(service, rc, "stop", act, timeout_of(rc, "stop"), on_line)
