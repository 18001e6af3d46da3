"""Compliance runs: executables that check (or fix) one rule each.

Modules are the executables in ``<root>/var/lib/orchestrator/compliance/modules/`` (or the
ones named by ``DEFAULT.comp_modules``), run as ``MODULE check`` or ``MODULE fix`` with the
service's name in the environment. Exit 0 = ok, 1 = not ok, 2 = not applicable; anything
else (or a timeout) is an error. Results are kept in the instance's state and pushed to the
collector by ``compliance_auto``.

The node's own ``compliance_auto`` (node.conf ``comp_schedule``) runs every module of the same
directory with no service (``run_node_modules``); its results have ``service`` None and are
kept in ``<root>/var/lib/orchestrator/node/compliance.json``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.errors import UsageError

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.service import Service

MODULE_TIMEOUT = 60.0
STATUS_BY_CODE = {0: "ok", 1: "nok", 2: "n/a"}


@dataclass(frozen=True)
class ComplianceResult:
    module: str
    action: str
    status: str  # ok | nok | n/a | error
    detail: str
    checked_at: str
    service: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def modules_dir(svc: Service) -> Path:
    return svc.node.paths.var / "compliance" / "modules"


def modules(svc: Service) -> list[Path]:
    """The modules to run, sorted; named ones must exist (else exit 2 naming them)."""
    base = modules_dir(svc)
    wanted = svc.config.defaults["comp_modules"]
    if wanted:
        missing = [m for m in wanted if not (base / m).is_file()]
        if missing:
            raise UsageError(f"{svc.config.path}: [DEFAULT] comp_modules = {' '.join(wanted)}: "
                             f"no module {missing[0]!r} in {base}")
        return [base / m for m in wanted]
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_file() and os.access(p, os.X_OK))


def run_modules(svc: Service, action: str) -> list[ComplianceResult]:
    """Run every module with ``check`` or ``fix``; keep and return the results."""
    env = {"ORCHESTRATOR_SVCNAME": svc.name, "OPENSVC_SVCNAME": svc.name,
           "ORCHESTRATOR_NODE": svc.nodename}
    results = _run_all(modules(svc), action, env, svc.var / "compliance", svc.name)
    svc.state.update("compliance", "last", [r.to_dict() for r in results])
    return results


def node_modules(node: NodeConfig) -> list[Path]:
    """The modules the node-level run uses: every executable of the modules directory."""
    base = node.paths.var / "compliance" / "modules"
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_file() and os.access(p, os.X_OK))


def run_node_modules(node: NodeConfig, action: str) -> list[ComplianceResult]:
    """The node-level compliance run (no service); results kept in the node's state."""
    from orchestrator.service import LocalState

    state = node.paths.var / "node"
    results = _run_all(node_modules(node), action, {"ORCHESTRATOR_NODE": node.nodename},
                       state / "compliance", None)
    LocalState(state / "compliance.json").update("compliance", "last",
                                                 [r.to_dict() for r in results])
    return results


def _run_all(paths: list[Path], action: str, environment: dict[str, str], logs: Path,
             service: str | None) -> list[ComplianceResult]:
    from orchestrator.errors import OrchestratorError
    from orchestrator.execution import CommandSpec, run

    if action not in ("check", "fix"):
        raise UsageError(f"compliance action must be check or fix, not {action!r}")
    results = []
    logs.mkdir(parents=True, exist_ok=True)
    for module in paths:
        now = datetime.now(UTC).isoformat()
        spec = CommandSpec(command=f"{_quote(module)} {action}", environment=environment,
                           timeout=MODULE_TIMEOUT)
        log_path = logs / f"{module.name}.log"
        try:
            res = run(spec, log_path)
        except OrchestratorError as exc:
            results.append(ComplianceResult(module.name, action, "error", str(exc), now,
                                            service))
            continue
        output = log_path.read_text(errors="replace").strip()
        status = "error" if res.timed_out else STATUS_BY_CODE.get(res.exit_code, "error")
        detail = output[-500:] if output else res.describe()
        results.append(ComplianceResult(module.name, action, status, detail, now, service))
    return results


def _quote(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))
