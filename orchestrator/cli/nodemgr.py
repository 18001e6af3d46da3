"""``nodemgr``: node-level commands. Argument parsing and output only."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from orchestrator.cli import completion
from orchestrator.cli.common import ArgParser, emit_json, guarded, table
from orchestrator.errors import UsageError


def build_parser() -> argparse.ArgumentParser:
    p = ArgParser(prog="nodemgr", description="Node commands")
    sub = p.add_subparsers(dest="command", required=True, parser_class=ArgParser)
    sched = sub.add_parser("schedule", help="schedule tools")
    ssub = sched.add_subparsers(dest="subcommand", required=True, parser_class=ArgParser)
    ex = ssub.add_parser("explain", help="next run times of a schedule expression, and why")
    ex.add_argument("expression")
    ex.add_argument("--now", help="evaluate at this time (ISO 8601); default: now")
    ex.add_argument("--last", help="the job's last run (ISO 8601)")
    ex.add_argument("--count", type=int, default=5)
    ex.add_argument("--tz", help="IANA time zone of the schedule; default: local")
    ex.add_argument("--format", choices=["text", "json"], default="text")
    pr = sub.add_parser("print", help="print schedule")
    pr.add_argument("what", choices=["schedule"])
    pr.add_argument("--format", choices=["text", "json"], default="text")
    st = sub.add_parser("status", help="nodes and services")
    st.add_argument("--format", choices=["text", "json"], default="text")
    daemon = sub.add_parser("daemon", help="the node agent")
    dsub = daemon.add_subparsers(dest="subcommand", required=True, parser_class=ArgParser)
    dsub.add_parser("run", help="run the node agent in the foreground")
    return p


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"invalid {option} {text!r}: expected ISO 8601 "
                         "like 2026-11-27T10:00:00") from None


def explain(args: argparse.Namespace) -> int:
    from orchestrator.schedule import ScheduleError
    from orchestrator.schedule import explain as explain_schedule

    if args.count < 1:
        raise UsageError(f"invalid --count {args.count}: expected >= 1")
    now = _time(args.now, "--now") or datetime.now().astimezone()
    last = _time(args.last, "--last")
    try:
        result = explain_schedule(args.expression, now=now, last=last, count=args.count,
                                  tz=args.tz)
    except ScheduleError as exc:
        raise UsageError(f"invalid schedule {args.expression!r}: {exc}") from None
    if args.format == "json":
        emit_json(result)
        return 0
    out = [f"expression: {result['expression']}", f"kind:       {result['kind']}"]
    for key in ("description", "reason"):
        if result.get(key):
            out.append(f"{key + ':':<11} {result[key]}")
    out.append("next runs:" if result["next"] else "next runs:  none within the horizon")
    out.extend(f"  {t}" for t in result["next"])
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def node_schedule(args: argparse.Namespace) -> int:
    """Node-level jobs; the last run is the daemon's (jobs.node_kinds keeps it in var/node/)."""
    from datetime import UTC

    from orchestrator.cli.views import _t
    from orchestrator.config.node import load_node_config
    from orchestrator.jobs import node_schedule_table

    rows = node_schedule_table(load_node_config(), datetime.now(UTC))
    if args.format == "json":
        emit_json(rows)
        return 0
    sys.stdout.write(table(
        [(r["action"], _t(_time(r["last_run"], "last_run")),
          _t(_time(r["next_run"], "next_run")) if r["next_run"] else r["why_not"] or "-",
          r["config_parameter"], r["schedule_definition"] or "-") for r in rows],
        ["ACTION", "LAST RUN", "NEXT RUN", "CONFIG PARAMETER", "SCHEDULE DEFINITION"]) + "\n")
    return 0


def status(args: argparse.Namespace) -> int:
    from orchestrator import service as service_mod
    from orchestrator.cli.views import status_dict
    from orchestrator.config.errors import ConfigError
    from orchestrator.config.node import load_node_config

    node = load_node_config()
    if node.is_clustered:
        from orchestrator.actions.cluster import cluster_status

        return _print_status(cluster_status(node), args.format)
    services = {}
    for name in service_mod.service_names(node):
        try:
            data = status_dict(service_mod.load(node, name))
        except ConfigError as exc:
            services[name] = {"avail": "undef", "active_node": None, "frozen": False,
                              "instances": {}, "error": str(exc.problems[0])}
            continue
        services[name] = {k: data[k] for k in ("avail", "overall", "active_node", "frozen",
                                               "instances")}
    result = {"cluster": None, "nodes": {node.nodename: {"state": "up"}}, "services": services}
    return _print_status(result, args.format)


def _print_status(result: dict, fmt: str) -> int:
    if fmt == "json":
        emit_json(result)
        return 0
    services = result["services"]
    out = [f"cluster {result['cluster'] or '(standalone)'}"]
    out += [f"node {n}: {info['state']}" for n, info in result["nodes"].items()]
    out.append(table([(name, s["avail"],
                       ",".join(s.get("active_nodes") or []) or s.get("active_node") or "-",
                       "frozen" if s.get("frozen") else "", _note(s))
                      for name, s in services.items()],
                     ["SERVICE", "AVAIL", "ACTIVE NODE", "FROZEN", "NOTE"]))
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def _note(s: dict) -> str:
    """An error, else the watched resources' restart counts per instance (n1: app#0 1/2)."""
    from orchestrator.cli.views import restarts_text

    if s.get("error"):
        return s["error"]
    return "; ".join(f"{n}:{restarts_text(i.get('monitored'))[len('  restarts'):]}"
                     for n, i in (s.get("instances") or {}).items() if i.get("monitored"))


def daemon_run() -> int:
    """The node agent in the foreground, until SIGTERM or SIGINT."""
    from orchestrator import metrics
    from orchestrator.config.node import load_node_config
    from orchestrator.daemon.agent import Agent

    agent = Agent(load_node_config())
    agent.install_signal_handlers()
    served = metrics.start(agent)  # node.conf [metrics] listen: /metrics (docs/metrics.md)
    try:
        return agent.run()
    finally:
        if served is not None:
            served.close()


def _main(argv: list[str]) -> int:
    parser = build_parser()
    completion.autocomplete(parser)  # the shell asking for completions: answered, exits
    args = parser.parse_args(argv)
    from orchestrator import log

    log.configure(through_structlog=args.command == "daemon")  # the agent: structlog's pipeline
    if args.command == "schedule":
        return explain(args)
    if args.command == "print":
        return node_schedule(args)
    if args.command == "status":
        return status(args)
    if args.command == "daemon":
        return daemon_run()
    raise UsageError(f"nodemgr: unknown command {args.command!r}")


main = guarded(_main)

if __name__ == "__main__":
    sys.exit(main())
