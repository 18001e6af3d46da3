"""``svcmgr -s SVC logs [--rid RID] [--run RUN_ID] [--follow]``: the output of a task's run.

Which run: ``--run`` names one; else the newest run that started, of ``--rid``'s tasks (all
the service's tasks without it). The records are the service's: this node's files, or the
cluster's (ZooKeeper) in a cluster, so a run of another node is found too.

Where its output comes from, said on stderr before it (stdout holds the output alone):
* the run ran here: this node's run store (the run's log file);
* it ran on another node: the collector, which each node sends a finished run's output to
  (its last 64 KiB) with the record; without a collector, where it is and what to run there.

``--follow``: a run still running here is followed until it ends (``tail -f``); one running
elsewhere is shown once its node has pushed it. An unknown run id, or a rid the service does
not have, exits 2; a task that never ran, or output nowhere to be read, exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ActionError, UsageError
from orchestrator.runs import RunRecord, RunStatus

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.service import Service

FOLLOW_POLL = 0.2


class NoOutput(ActionError):
    """No output to show from here: no run yet, or its output out of reach (exit 1)."""


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def pick(svc: Service, args: argparse.Namespace) -> RunRecord:
    """The run to show: ``--run``'s, or the newest started run of the selected tasks."""
    from orchestrator.actions.run import split_list

    selectors = [r for text in args.rid for r in split_list(text)]
    tasks = [rc.rid for rc in svc.tasks()]
    rids = [rid for rid in tasks
            if not selectors or any(rid == s or rid.split("#")[0] == s for s in selectors)]
    if selectors and not rids:
        raise UsageError(f"service {svc.name!r} has no task {', '.join(selectors)} "
                         f"(tasks: {', '.join(tasks) or 'none'})")
    if args.run:
        found = [r for r in svc.runs.records() if r.run_id == args.run]
        if not found:
            raise UsageError(f"unknown run {args.run!r} of service {svc.name!r} (see "
                             f"`svcmgr -s {svc.name} print runs`)")
        return found[-1]
    started = [r for r in svc.runs.records(rids) if r.started_at is not None]
    if not started:
        raise NoOutput(f"{', '.join(rids) or 'no task'} of {svc.name}: no run yet")
    return started[-1]


def describe(record: RunRecord) -> str:
    code = f" (exit {record.exit_code})" if record.exit_code is not None else ""
    return f"run {record.run_id}: {record.rid} on {record.node}, {record.status}{code}"


def show(node: NodeConfig, svc: Service, args: argparse.Namespace) -> int:
    record = pick(svc, args)
    if record.started_at is None:
        _say(f"{describe(record)}: never started ({record.reason}); no output")
        return 0
    if record.node == node.nodename:
        return _local(svc, record, args.follow)
    return _remote(node, svc, record, args.follow)


def _local(svc: Service, record: RunRecord, follow: bool) -> int:
    path = Path(record.log_path) if record.log_path else svc.runs.log_path(record.rid,
                                                                         record.run_id)
    _say(f"{describe(record)}; output from this node's run store: {path}")
    try:
        fh = open(path, "rb")  # noqa: SIM115 - followed below
    except OSError as exc:
        raise NoOutput(f"cannot read {path}: {exc.strerror or exc} (pruned, or never "
                       "written)") from None
    with fh:
        out = sys.stdout.buffer
        while True:
            chunk = fh.read(65536)
            if chunk:
                out.write(chunk)
                out.flush()
                continue
            if not follow or _final(svc, record):
                break
            time.sleep(FOLLOW_POLL)
        out.write(fh.read())  # what it wrote as it ended
        out.flush()
    return 0


def _final(svc: Service, record: RunRecord) -> bool:
    now = [r for r in svc.runs.records([record.rid]) if r.run_id == record.run_id]
    return not now or now[-1].status is not RunStatus.RUNNING


def _remote(node: NodeConfig, svc: Service, record: RunRecord, follow: bool) -> int:
    url = node.get("collector", "url")
    token = node.get("collector", "token")
    if not url or not token:
        raise NoOutput(f"{describe(record)}: its output is on {record.node} "
                       f"({record.log_path}) and this node has no collector to fetch it from "
                       f"([collector] url, token); run `svcmgr -s {svc.name} logs --run "
                       f"{record.run_id}` on {record.node}")
    _say(f"{describe(record)}; output from the collector at {url} "
         f"(sent by {record.node} when the run ended)")
    while True:
        found = fetch_output(url, token, node.get("cluster", "name") or "default",
                             record.run_id)
        if found is not None or not follow:
            break
        time.sleep(1.0)
    if found is None:
        raise NoOutput(f"the collector has no output of run {record.run_id} yet"
                       + (" (still running: add --follow to wait for it)"
                          if record.status is RunStatus.RUNNING else
                          f" ({record.node} may not have pushed it yet)"))
    if found.get("truncated"):
        _say("(the last 64 KiB)")
    sys.stdout.write(found.get("output") or "")
    sys.stdout.flush()
    return 0


def fetch_output(url: str, token: str, cluster: str, run_id: str) -> dict[str, Any] | None:
    """The collector's copy of a run's output, None when it has none (404)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    query = urllib.parse.urlencode({"cluster": cluster, "run_id": run_id})
    request = urllib.request.Request(f"{url.rstrip('/')}/api/v1/output?{query}", headers={
        "Authorization": f"Bearer {token}", "X-Cluster": cluster})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise NoOutput(f"the collector at {url} answered {exc.code} for run {run_id}") from None
    except (OSError, ValueError) as exc:
        raise NoOutput(f"cannot reach the collector at {url}: {exc}") from None
