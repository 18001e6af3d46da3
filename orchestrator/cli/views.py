"""Read-only views of services: ls, print config/status/runs/schedule, validate."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from orchestrator.cli.common import emit_json, table
from orchestrator.config.errors import ConfigError
from orchestrator.errors import UsageError

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.service import Service


def ls(node: NodeConfig, fmt: str) -> int:
    from orchestrator.config.service import load_service
    from orchestrator.service import service_names

    rows = []
    for name in service_names(node):
        path = node.paths.service_conf(name)
        try:
            cfg = load_service(path, name, node.nodename, node.service_context())
            rows.append({"service": name, "path": str(path), "valid": True,
                         "nodes": list(cfg.nodes), "topology": cfg.defaults["topology"]})
        except ConfigError as exc:
            rows.append({"service": name, "path": str(path), "valid": False,
                         "error": exc.problems[0].reason if exc.problems else str(exc)})
    if fmt == "json":
        emit_json(rows)
    else:
        for row in rows:
            note = "" if row["valid"] else f"  (invalid config: {row['error']})"
            sys.stdout.write(f"{row['service']}{note}\n")
    return 0


def print_config(node: NodeConfig, svcname: str, fmt: str) -> int:
    from orchestrator.config.ini import parse_ini
    from orchestrator.config.service import read_config_text

    path = node.paths.service_conf(svcname)
    if not path.exists():
        raise UsageError(f"unknown service {svcname!r}: no config file {path}")
    text = read_config_text(path)
    if fmt == "json":
        sections, _ = parse_ini(text)
        emit_json({name: dict(s.options) for name, s in sections.items()})
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def validate_config(node: NodeConfig, svcname: str) -> int:
    from orchestrator.config.service import load_service

    path = node.paths.service_conf(svcname)
    if not path.exists():
        raise UsageError(f"unknown service {svcname!r}: no config file {path}")
    # ConfigError lists every problem, exit 2; warnings (accepted with no effect here, a
    # repeated keyword) go to stderr, one line each, and the config is valid
    cfg = load_service(path, svcname, node.nodename, node.service_context())
    for warning in cfg.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    sys.stdout.write(f"{path}: valid\n")
    return 0


def status_dict(svc: Service) -> dict[str, Any]:
    """A standalone instance's status. A clustered node never comes here: its ``print
    status`` is ``actions.cluster.service_status``, whose ``frozen`` is the cluster target's.
    Standalone, nothing can be frozen (``svcmgr freeze`` needs a cluster, exit 2)."""
    from orchestrator.resources.instance import instance_status

    inst = instance_status(svc)
    up = str(inst.avail) == "up"
    published = svc.state.read().get("status", {}).get("instance", {})
    for rid, counts in (published.get("restarts") or {}).items():  # the daemon's monitor
        if rid in inst.resources and "restart" in inst.resources[rid].extra:
            inst.resources[rid].extra.update(counts)
    return {
        "service": svc.name,
        "avail": str(inst.avail),
        "overall": str(inst.overall),
        "frozen": False,  # standalone: no cluster target, nothing to freeze
        "active_node": svc.nodename if up else None,
        "topology": svc.config.defaults["topology"],
        "nodes": list(svc.config.nodes),
        "resources": {rid: r.to_dict() for rid, r in inst.resources.items()},
        "instances": {svc.nodename: {"avail": str(inst.avail), "overall": str(inst.overall)}},
    }


def print_status(svc: Service, args: argparse.Namespace) -> int:
    data = status_dict(svc)
    if args.format == "json":
        emit_json(data)
        return 0
    render_status(data)
    return 0


def render_status(data: dict[str, Any]) -> None:
    """Text form of a service status (standalone or cluster-wide)."""
    name = data["service"]
    frozen = "  frozen" if data.get("frozen") else ""
    out = [f"{name:<30} {data['avail']}{frozen}",
           f"  overall{'':<22} {data['overall']}",
           f"  active node{'':<18} {data['active_node'] or '-'}",
           "  instances"]
    for node, inst in data["instances"].items():
        out.append(f"    {node:<26} {inst['avail']}{restarts_text(inst.get('monitored'))}")
    for node, reason in ((data.get("target") or {}).get("failed") or {}).items():
        out.append(f"  failed on {node:<19} {reason}")
    out.append("  resources")
    for rid, res in data["resources"].items():
        flags = "".join(["O" if res["optional"] else ".", "D" if res["disabled"] else ".",
                         "M" if res.get("monitor") else "."])
        reason = f"  ({res['reason']})" if res.get("reason") else ""
        restarts = ""
        if "restarts" in res:
            restarts = (f"  restarts {res['restarts']}/{res['restart']}"
                        f" (total {res.get('restarts_total', 0)})")
        elif "restart" in res:
            restarts = f"  restart {res['restart']}"
        out.append(f"    {rid:<16} {flags} {res['status']:<10} {res['label']}{restarts}{reason}")
    sys.stdout.write("\n".join(out) + "\n")


def restarts_text(monitored: dict[str, Any] | None) -> str:
    """`` restarts app#0 2/2`` for an instance's watched resources (monitor or restart)."""
    if not monitored:
        return ""
    return "  restarts " + ", ".join(f"{rid} {m.get('restarts', 0)}/{m.get('restart', 0)}"
                                     for rid, m in monitored.items())


def print_runs(svc: Service, args: argparse.Namespace) -> int:
    from orchestrator.actions.run import split_list

    selectors = [r for text in args.rid for r in split_list(text)]
    rids = None
    if selectors:
        rids = [r.rid for r in svc.resources()
                if any(r.rid == s or r.rid.split("#")[0] == s for s in selectors)]
    records = svc.runs.records(rids)
    if args.format == "json":
        emit_json([r.to_dict() for r in records])
        return 0
    rows = [(r.run_id, r.rid, r.node, r.origin, _t(r.scheduled_at), _t(r.started_at),
             _t(r.ended_at), r.exit_code, r.status, r.reason or "") for r in records]
    sys.stdout.write(table(rows, ["RUN ID", "RID", "NODE", "ORIGIN", "SCHEDULED", "STARTED",
                                  "ENDED", "EXIT", "STATUS", "REASON"]) + "\n")
    return 0


def print_schedule(svc: Service, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from orchestrator.jobs import schedule_table

    entries = schedule_table(svc, datetime.now(UTC))
    if args.format == "json":
        emit_json([e.to_dict() for e in entries])
        return 0
    rows = [(e.action, _t(e.last_run), _t(e.next_run) if e.next_run else e.why_not or "-",
             e.config_parameter, e.schedule_definition or "-") for e in entries]
    sys.stdout.write(table(rows, ["ACTION", "LAST RUN", "NEXT RUN", "CONFIG PARAMETER",
                                  "SCHEDULE DEFINITION"]) + "\n")
    return 0


def _t(dt: Any) -> str | None:
    if dt is None:
        return None
    return dt.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def compliance(svc: Service, action: str, fmt: str) -> int:
    """Run the compliance modules; exit 1 when a module is not ok or failed."""
    from orchestrator.builtins.compliance import modules_dir, run_modules

    results = run_modules(svc, action)
    if fmt == "json":
        emit_json([r.to_dict() for r in results])
    elif not results:
        sys.stdout.write(f"no compliance module in {modules_dir(svc)}\n")
    else:
        rows = [(r.module, r.action, r.status, r.detail.splitlines()[-1] if r.detail else "")
                for r in results]
        sys.stdout.write(table(rows, ["MODULE", "ACTION", "STATUS", "DETAIL"]) + "\n")
    return 1 if any(r.status in ("nok", "error") for r in results) else 0
