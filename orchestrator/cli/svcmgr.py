"""``svcmgr``: service actions. Argument parsing and output only; the work is elsewhere.

A link or copy of this command named after a service acts as ``svcmgr -s <that name>``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from orchestrator.cli import completion, views
from orchestrator.cli.common import ArgParser, guarded
from orchestrator.errors import UsageError

_OWN_NAMES = {"svcmgr", "svcmgr.py", "__main__.py", "-c"}


def _run_args(run: argparse.ArgumentParser) -> None:
    run.add_argument("--rid", action="append", default=[], help="rids: task#0, task, lists"
                     ).completer = completion.rids  # type: ignore[attr-defined]
    run.add_argument("--tags", help="a,b = a or b; a+b = a and b")
    run.add_argument("--subsets", action="append", default=[])
    run.add_argument("--confirm", action="store_true", help="skip confirmation prompts")
    run.add_argument("--cron", action="store_true", help="run as the scheduler would")


def _print_args(pr: argparse.ArgumentParser) -> None:
    pr.add_argument("what", choices=["schedule", "status", "runs", "config"])
    pr.add_argument("--rid", action="append", default=[]
                    ).completer = completion.rids  # type: ignore[attr-defined]
    pr.add_argument("--format", choices=["text", "json"], default="text")


def _wait_args(act: argparse.ArgumentParser) -> None:
    act.add_argument("--wait", type=float, default=60.0, help="seconds to wait (cluster)")


def _switch_args(sw: argparse.ArgumentParser) -> None:
    sw.add_argument("--to", required=True, metavar="NODE")
    sw.add_argument("--wait", type=float, default=60.0, help="seconds to wait")


def _compliance_args(comp: argparse.ArgumentParser) -> None:
    comp.add_argument("what", choices=["check", "fix"])
    comp.add_argument("--format", choices=["text", "json"], default="text")


def _logs_args(logs: argparse.ArgumentParser) -> None:
    logs.add_argument("--rid", action="append", default=[], help="task#0, task, lists"
                      ).completer = completion.rids  # type: ignore[attr-defined]
    logs.add_argument("--run", metavar="RUN_ID", help="this run (print runs lists them)")
    logs.add_argument("--follow", action="store_true", help="follow a running run to its end")


def _validate_args(val: argparse.ArgumentParser) -> None:
    val.add_argument("what", choices=["config"])


def _create_args(create: argparse.ArgumentParser) -> None:
    create.add_argument("--config", required=True, type=Path)


def _ls_args(ls: argparse.ArgumentParser) -> None:
    ls.add_argument("--format", choices=["text", "json"], default="text")


def _no_args(_: argparse.ArgumentParser) -> None:
    pass


# action: (help, what adds its arguments), in the order help lists them
_ACTIONS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "run": ("run tasks of the service", _run_args),
    "print": ("print schedule|status|runs|config", _print_args),
    "validate": ("validate config", _validate_args),
    "create": ("validate FILE and install it as the service", _create_args),
    "delete": ("remove the service", _no_args),
    "start": ("start the instance on this node", _wait_args),
    "stop": ("stop the instance on this node", _wait_args),
    "takeover": ("relocate the active instance to this node", _wait_args),
    "giveback": ("relocate the active instance back to the placement leader", _wait_args),
    "switch": ("relocate the active instance to NODE", _switch_args),
    "sync": ("copy the sync resources' data to the peer nodes now", _no_args),
    "compliance": ("run the compliance modules", _compliance_args),
    "freeze": ("stop automatic orchestration (failover)", _no_args),
    "thaw": ("resume automatic orchestration", _no_args),
    "clear": ("remove the failure marks (failed starts, spent restarts)", _no_args),
    "logs": ("the output of a task's newest run, or of one run", _logs_args),
    "ls": ("services known to this node", _ls_args),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``only``, the parser of that action alone: what a valid command
    line needs, and the same result. Setting up the other 16 actions was a tenth of
    ``svcmgr run``'s start-up (bench/README.md); help and completion get them all."""
    p = ArgParser(prog="svcmgr", description="Service actions")
    p.add_argument("-s", "--service", dest="svc", help="service name"
                   ).completer = completion.service_names  # type: ignore[attr-defined]
    sub = p.add_subparsers(dest="action", required=True, parser_class=ArgParser)
    for name, (text, add_arguments) in _ACTIONS.items():
        if only in (None, name):
            add_arguments(sub.add_parser(name, help=text))
    return p


def action_named(argv: list[str]) -> str | None:
    """The action a command line names, when it names a known one before any help option;
    None otherwise (then the whole parser reads it, and says what is wrong)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("-s", "--service"):
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in _ACTIONS else None
        elif not arg.startswith(("-s", "--service=")):
            return None  # -h, --help, an unknown option: the whole parser answers
    return None


def _argv_with_link(argv: list[str]) -> list[str]:
    name = Path(sys.argv[0]).name
    if name not in _OWN_NAMES and name != "svcmgr" and not name.startswith("python"):
        return ["-s", name, *argv]
    return argv


def _main(argv: list[str]) -> int:
    argv = _argv_with_link(argv)
    if completion.requested():  # the shell asking for completions: answered, exits
        completion.autocomplete(build_parser())
    args = build_parser(only=action_named(argv)).parse_args(argv)
    from orchestrator import log

    log.configure()
    from orchestrator.config.node import load_node_config

    node = load_node_config()
    if args.action == "ls":
        return views.ls(node, args.format)
    if not args.svc:
        raise UsageError(f"svcmgr {args.action}: missing -s SVC")
    from orchestrator.config.service import validate_service_name

    validate_service_name(args.svc)  # never a path: '-s ../x' must not escape the tree
    if node.is_clustered and args.action in _CLUSTER_ACTIONS:
        return _cluster_action(node, args)
    if args.action in _CLUSTER_ONLY:
        raise UsageError(f"svcmgr {args.action}: needs a cluster ([cluster] zk in "
                         f"{node.paths.node_conf} or ORCHESTRATOR_ZK)")
    if args.action == "create":
        from orchestrator.actions import lifecycle

        return lifecycle.create(node, args.svc, args.config)
    from orchestrator import service as service_mod

    if args.action == "print" and args.what == "config":
        return views.print_config(node, args.svc, args.format)
    if args.action == "validate":
        return views.validate_config(node, args.svc)
    if args.action == "delete":
        from orchestrator.actions import lifecycle

        return lifecycle.delete(node, args.svc)
    svc = service_mod.load(node, args.svc)
    log.bind_service_log(log.service_logfile(node.paths.log_dir, svc.name))
    if node.is_clustered and args.action in ("run", "logs"):
        with _cluster_view(node, svc):
            return _run(svc, args) if args.action == "run" else _logs(node, svc, args)
    if args.action == "logs":
        return _logs(node, svc, args)
    if args.action == "run":
        return _run(svc, args)
    if args.action == "sync":
        return _sync(node, svc)
    if args.action == "compliance":
        return views.compliance(svc, args.what, args.format)
    if args.action in ("start", "stop", "clear"):
        from orchestrator.actions import lifecycle

        if args.action == "clear":  # standalone: no failure marks, only restart counts
            return lifecycle.clear(svc)
        return getattr(lifecycle, args.action)(svc, on_line=_echo)
    if args.action == "print":
        return getattr(views, f"print_{args.what}")(svc, args)
    raise UsageError(f"svcmgr: unknown action {args.action!r}")


def _run(svc, args: argparse.Namespace) -> int:  # noqa: ANN001
    """The run action; in a cluster its records and overlap guard are the cluster's."""
    from orchestrator.actions.run import RunOptions, run_action, split_list

    opts = RunOptions(
        rids=[r for text in args.rid for r in split_list(text)],
        tags=",".join(args.tags.split()) if args.tags else None,
        subsets=[s for text in args.subsets for s in split_list(text)],
        confirm=args.confirm, cron=args.cron)
    return run_action(svc, opts, on_line=_echo)


def _logs(node, svc, args: argparse.Namespace) -> int:  # noqa: ANN001
    from orchestrator.cli import logs

    return logs.show(node, svc, args)


def _sync(node, svc) -> int:  # noqa: ANN001
    """Copy now; peers' addresses come from the cluster (or are their names, standalone)."""
    from orchestrator.builtins.sync import sync_all
    from orchestrator.log import get_logger

    if node.is_clustered:
        from orchestrator.actions import cluster

        with cluster.connect(node) as coord:
            facts = coord.nodes()
        addresses = {n: f.get("address") or n for n, f in facts.items()}
    else:
        addresses = {n: n for n in svc.config.nodes}
    log = get_logger().bind(svc=svc.name)
    results = sync_all(svc, addresses)
    if not results:
        raise UsageError(f"service {svc.name!r} has no sync resource")
    for res in results:
        if res.ok:
            log.info(f"synchronized to {', '.join(res.copied) or 'no peer'}", rid=res.rid)
        else:
            log.error(f"sync failed: {res.reason}", rid=res.rid)
    return 0 if all(r.ok for r in results) else 1


@contextlib.contextmanager
def _cluster_view(node, svc) -> Iterator[None]:  # noqa: ANN001
    """Runs and run history go through the cluster: shared records, cluster-wide max_parallel."""
    from orchestrator.actions import cluster
    from orchestrator.runs import FileRunStore
    from orchestrator.runs.slot_reaper import ManualRunStore

    with cluster.connect(node) as coord:
        # its commands outlive svcmgr (their own session): so do their max_parallel slots
        svc.runs = ManualRunStore(coord, svc.name, FileRunStore(svc.var / "runs"))
        svc.clustered, svc.active_node = True, active_node(coord, svc)
        svc.claims = coord.claims  # print schedule: the last runs the scheduler counts
        yield


def active_node(coord, svc) -> str | None:  # noqa: ANN001
    """The node whose instance runs the service's cluster-wide jobs: the lease holder, or
    a flex service's started instance in the lowest slot."""
    from orchestrator.daemon.flex import flex_counts

    counts = flex_counts(svc.config)
    if counts is not None:
        from orchestrator.actions.cluster import flex_instances

        up = flex_instances(coord, svc.name, counts)
        return up[0] if up else None
    lease = coord.lease_holder(svc.name)
    return lease.node if lease else None


_CLUSTER_ONLY = {"switch", "takeover", "giveback", "freeze", "thaw"}
_CLUSTER_ACTIONS = _CLUSTER_ONLY | {"create", "delete", "start", "stop", "print", "clear"}


def _cluster_action(node, args: argparse.Namespace) -> int:  # noqa: ANN001
    """In a cluster, these actions go through ZooKeeper and the node agents."""
    from orchestrator.actions import cluster

    if args.action == "print" and args.what == "status":
        from orchestrator.cli.common import emit_json

        with cluster.connect(node) as coord:
            data = cluster.service_status(coord, args.svc, node)
        if args.format == "json":
            emit_json(data)
        else:
            views.render_status(data)
        return 0
    if args.action == "print":
        return _local_print(node, args)
    if args.action == "create":
        return cluster.create(node, args.svc, args.config)
    if args.action == "delete":
        return cluster.delete(node, args.svc)
    if args.action in ("freeze", "thaw"):
        return cluster.set_frozen(node, args.svc, args.action == "freeze")
    if args.action == "clear":
        return cluster.clear(node, args.svc)
    if args.action == "switch":
        return cluster.switch(node, args.svc, args.to, args.wait)
    if args.action == "takeover":
        return cluster.switch(node, args.svc, node.nodename, args.wait, action="takeover")
    if args.action == "giveback":
        return cluster.giveback(node, args.svc, args.wait)
    return getattr(cluster, args.action)(node, args.svc, args.wait)


def _local_print(node, args: argparse.Namespace) -> int:  # noqa: ANN001
    from orchestrator import service as service_mod

    if args.what == "config":
        return views.print_config(node, args.svc, args.format)
    svc = service_mod.load(node, args.svc)
    with _cluster_view(node, svc):
        return getattr(views, f"print_{args.what}")(svc, args)


def _echo(line: str) -> None:
    sys.stdout.write(line if line.endswith("\n") else line + "\n")
    sys.stdout.flush()


main = guarded(_main)

if __name__ == "__main__":
    sys.exit(main())
