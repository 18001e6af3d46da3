"""Install, remove, start and stop a service on this node (standalone node)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from orchestrator.config.service import parse_service, read_config_text, validate_service_name
from orchestrator.errors import UsageError

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.service import Service


def create(node: NodeConfig, svcname: str, source: Path) -> int:
    """Validate ``source`` as ``svcname``, then install it atomically: all or nothing."""
    validate_service_name(svcname)
    text = read_config_text(source)
    parse_service(text, str(source), svcname, node.nodename)  # raises ConfigError, exit 2
    target = node.paths.service_conf(svcname)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    structlog.get_logger().info(f"installed {svcname} from {source}", svc=svcname)
    return 0


def delete(node: NodeConfig, svcname: str) -> int:
    target = node.paths.service_conf(svcname)
    if not target.exists():
        raise UsageError(f"unknown service {svcname!r}: no config file {target}")
    target.unlink()
    structlog.get_logger().info(f"deleted {svcname}", svc=svcname)
    return 0


def start(svc: Service, on_line: Callable[[str], None] | None = None) -> int:
    """Start the resources of the lifecycle drivers (registry order, then rid order); stop
    at the first non-optional failure."""
    return _apply(svc, "start", _lifecycle_resources(svc), on_line)


def stop(svc: Service, on_line: Callable[[str], None] | None = None) -> int:
    """Stop them in the reverse order."""
    return _apply(svc, "stop", list(reversed(_lifecycle_resources(svc))), on_line)


def clear(svc: Service) -> int:
    """Standalone ``clear``: the resource monitor's restart counts are reset (the daemon
    sees the bumped ``monitor.cleared`` of the instance's state at its next run)."""
    cleared = int(svc.state.read().get("monitor", {}).get("cleared") or 0) + 1
    svc.state.update("monitor", "cleared", cleared)
    structlog.get_logger().info(f"{svc.name}: restart counts cleared", svc=svc.name)
    return 0


def _lifecycle_resources(svc: Service) -> list:
    """Registry order between groups; within one, the driver's ``start_key`` if it has one
    (apps: by their start numbers), else rid order."""
    from orchestrator.resources import registry

    ordered = []
    for group in registry.lifecycle_groups():
        resources = svc.resources(group)
        key = getattr(registry.implementation(group), "start_key", None) if resources else None
        ordered += sorted(resources, key=key) if key else resources
    return ordered


def _apply(svc: Service, action: str, resources: list, on_line: Callable[[str], None] | None
           ) -> int:
    from orchestrator.resources import registry

    log = structlog.get_logger().bind(svc=svc.name)
    for rc in resources:
        rlog = log.bind(rid=rc.rid)
        if rc["disable"]:
            rlog.info("disabled, skipped")
            continue
        if isinstance(rc.get(action), str):  # an app's start/stop command
            rlog.info(rc[action])
        error = getattr(registry.implementation(rc.driver), action)(svc, rc, on_line=on_line)
        if error is None:
            continue
        rlog.error(error)
        if rc["optional"]:
            continue
        log.error(f"'{action}' action stopped on execution error: {rc.rid}: {error}")
        return 1
    return 0
