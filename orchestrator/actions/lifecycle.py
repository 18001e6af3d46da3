"""Install, remove, start and stop a service on this node (standalone node)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.config.service import parse_service, read_config_text, validate_service_name
from orchestrator.errors import UsageError
from orchestrator.log import get_logger

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service


def create(node: NodeConfig, svcname: str, source: Path) -> int:
    """Validate ``source`` as ``svcname``, then install it atomically: all or nothing."""
    validate_service_name(svcname)
    text = read_config_text(source)
    parse_service(text, str(source), svcname, node.nodename,
                  node.service_context())  # raises ConfigError, exit 2
    target = node.paths.service_conf(svcname)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    get_logger().info(f"installed {svcname} from {source}", svc=svcname)
    return 0


def delete(node: NodeConfig, svcname: str) -> int:
    target = node.paths.service_conf(svcname)
    if not target.exists():
        raise UsageError(f"unknown service {svcname!r}: no config file {target}")
    target.unlink()
    get_logger().info(f"deleted {svcname}", svc=svcname)
    return 0


def start(svc: Service, on_line: Callable[[str], None] | None = None) -> int:
    """Start the resources of the lifecycle drivers (registry order; within a group, its
    subsets in name order, the unnamed one first, then the driver's order); stop at the
    first non-optional failure. A non-PRD service does not start on a PRD node."""
    refused = env_refusal(svc)
    if refused:
        get_logger().bind(svc=svc.name).error(refused)
        return 1
    return _apply(svc, "start", _lifecycle_steps(svc), on_line)


def stop(svc: Service, on_line: Callable[[str], None] | None = None) -> int:
    """Stop them in the reverse order."""
    return _apply(svc, "stop", list(reversed(_lifecycle_steps(svc))), on_line)


def env_refusal(svc: Service) -> str | None:
    """OpenSVC's data protection rule: a service whose env is not PRD is not started on a
    node whose env is PRD (a PRD service may start anywhere)."""
    node_env = str(svc.node.sections.get("node", {}).get("env") or "")
    env = str(svc.config.defaults.get("env") or "")
    if node_env.upper() == "PRD" and env.upper() != "PRD":
        return (f"not started: {svc.name} is env {env or '-'} and this node is PRD: a service "
                "that is not PRD does not start on a PRD node")
    return None


def clear(svc: Service) -> int:
    """Standalone ``clear``: the resource monitor's restart counts are reset (the daemon
    sees the bumped ``monitor.cleared`` of the instance's state at its next run)."""
    cleared = int(svc.state.read().get("monitor", {}).get("cleared") or 0) + 1
    svc.state.update("monitor", "cleared", cleared)
    get_logger().info(f"{svc.name}: restart counts cleared", svc=svc.name)
    return 0


def _lifecycle_steps(svc: Service) -> list[list[ResourceConfig]]:
    """The resources in start order, as steps: one resource, or the members of a subset
    with ``parallel = true``, acted on side by side. Registry order between groups; within
    one, subsets in name order (om3's resourceset order, no subset first); within a subset,
    the driver's ``start_key`` if it has one (apps: their start numbers), else rid order."""
    from orchestrator.resources import registry

    steps: list[list[ResourceConfig]] = []
    for group in registry.lifecycle_groups():
        resources = svc.resources(group)
        key = getattr(registry.implementation(group), "start_key", None) if resources else None
        members: dict[str, list[ResourceConfig]] = {}
        for rc in sorted(resources, key=key) if key else resources:
            members.setdefault(rc.get("subset") or "", []).append(rc)
        for name in sorted(members):
            section = f"subset#{group}:{name}" if name else f"subset#{group}"
            if svc.config.subsets.get(section, {}).get("parallel") and len(members[name]) > 1:
                steps.append(members[name])
            else:
                steps.extend([rc] for rc in members[name])
    return steps


def _apply(svc: Service, action: str, steps: list[list[ResourceConfig]],
           on_line: Callable[[str], None] | None) -> int:
    log = get_logger().bind(svc=svc.name)
    for step in steps:
        if len(step) == 1:
            errors = [(step[0], _act(svc, action, step[0], on_line))]
        else:
            with ThreadPoolExecutor(max_workers=len(step)) as pool:
                futures = [(rc, pool.submit(_act, svc, action, rc, on_line)) for rc in step]
                errors = [(rc, future.result()) for rc, future in futures]
        for rc, error in errors:
            if error is not None and not rc["optional"]:
                log.error(f"'{action}' action stopped on execution error: {rc.rid}: {error}")
                return 1
    return 0


def _act(svc: Service, action: str, rc: ResourceConfig,
         on_line: Callable[[str], None] | None) -> str | None:
    """Start or stop one resource; its error sentence, or None (disabled: skipped)."""
    from orchestrator.resources import registry

    rlog = get_logger().bind(svc=svc.name, rid=rc.rid)
    if rc["disable"]:
        rlog.info("disabled, skipped")
        return None
    if isinstance(rc.get(action), str):  # an app's start/stop command
        rlog.info(rc[action])
    error = getattr(registry.implementation(rc.driver), action)(svc, rc, on_line=on_line)
    if error is not None:
        rlog.error(error)
    return error
