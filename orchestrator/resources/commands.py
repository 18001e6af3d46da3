"""Run a resource's command (an app's start/stop/check, a task hook) with the resource's
identity, cwd, umask and environment, its output kept in the resource's log."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.execution import CommandResult, CommandSpec
    from orchestrator.service import Service

LIMIT_KEYWORDS = ("as", "core", "cpu", "data", "fsize", "memlock", "nofile", "nproc", "rss",
                  "stack", "vmem")


def base_environment(service: Service, rc: ResourceConfig, action: str) -> dict[str, str]:
    """What every command of a resource gets, under our names and OpenSVC's."""
    return {
        "ORCHESTRATOR_SVCNAME": service.name,
        "ORCHESTRATOR_RID": rc.rid,
        "ORCHESTRATOR_NODE": service.nodename,
        "ORCHESTRATOR_ACTION": action,
        "OPENSVC_SVCNAME": service.name,
        "OPENSVC_RID": rc.rid,
        "OPENSVC_ACTION": action,
    }


def command_spec(service: Service, rc: ResourceConfig, command: str, action: str,
                 extra_env: Mapping[str, str] | None = None,
                 timeout: float | None = None) -> CommandSpec:
    from orchestrator.execution import CommandSpec

    env = base_environment(service, rc, action)
    env.update(rc.get("environment") or {})
    env.update(extra_env or {})
    limits: dict[str, int] = {}
    for name in LIMIT_KEYWORDS:
        value = rc.get(f"limit_{name}")
        if value is not None:
            limits[name] = value
    if "as" in limits and "vmem" in limits:  # one rlimit: om3 sets the larger of the two
        vmem = limits.pop("vmem")
        limits["as"] = -1 if -1 in (vmem, limits["as"]) else max(vmem, limits["as"])
    return CommandSpec(
        command=command,
        user=rc.get("user"),
        group=rc.get("group"),
        cwd=rc.get("cwd"),
        umask=rc.get("umask"),
        environment=env,
        timeout=timeout if timeout is not None else rc.get("timeout"),
        kill_grace=rc.get("kill_grace") or 5.0,
        limits=limits,
    )


def resource_log(service: Service, rc: ResourceConfig, step: str | None = None) -> Path:
    """The log of the resource's last command (``<rid>.log``), or of its last ``step``
    command (``<rid>.pre_start.log``): each run rewrites its log."""
    path = service.var / "resources" / (f"{rc.rid}.log" if step is None
                                        else f"{rc.rid}.{step}.log")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def run_resource_command(service: Service, rc: ResourceConfig, command: str, action: str,
                         on_line: Callable[[str], None] | None = None,
                         timeout: float | None = None, step: str | None = None,
                         **env: Any) -> CommandResult:
    from orchestrator.execution import run

    spec = command_spec(service, rc, command, action, {k: str(v) for k, v in env.items()},
                        timeout)
    return run(spec, resource_log(service, rc, step), on_line=on_line)


def run_step(service: Service, rc: ResourceConfig, command: str, action: str, label: str,
             on_line: Callable[[str], None] | None = None, timeout: float | None = None,
             **env: Any) -> str | None:
    """Run one command of an action (an app's start, a hook); why it failed, in a sentence
    that starts with ``label`` ("start command", "pre_start"), or None when it exited 0."""
    from orchestrator.errors import OrchestratorError

    try:
        result = run_resource_command(service, rc, command, action, on_line=on_line,
                                      timeout=timeout, **env)
    except OrchestratorError as exc:
        return f"{label} could not run: {exc}"
    if result.timed_out:
        return f"{label} timed out after {timeout:g}s"
    if result.exit_code != 0:
        return f"{label} exited with code {result.exit_code}"
    return None
