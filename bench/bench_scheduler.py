"""Benchmark of the daemon's scheduler.

1. Scale (standalone daemon, ``nodemgr daemon run`` without ZooKeeper): N services x 10 tasks.
   * idle: every task cron ``0 3 * * *`` (nothing due): daemon CPU (% of one core) and RSS
     over ``--idle-seconds`` after start-up settled (psutil on the daemon pid);
   * skew: task#0 of service i is ``*/2 * * * * <i mod 60>`` (every 2 minutes, second
     spread over the minute), the 9 others daily; skew = run record ``started_at`` minus
     ``scheduled_at`` over ``--skew-seconds``.
   skew-cluster: the same load on a one-node cluster over a local ZooKeeper (each run a
   claim in ZooKeeper, its record in ZooKeeper).
2. Failover (2 clustered daemons on a local ZooKeeper, tests/cluster/daemons.py): a service
   with an ``@1s`` recording task; SIGKILL (or switch) the active node; time from the app's
   start on the new node (its own events line) to the task's first run there (its own line).

Rerun: .venv/bin/python bench/bench_scheduler.py --services 1000
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchstats import percentile

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def pct(values: list[float], q: float) -> float:
    found = percentile(values, q)
    return float("nan") if found is None else found


def write_services(root: Path, n: int, frequent: bool) -> None:
    services = root / "etc" / "orchestrator" / "services"
    services.mkdir(parents=True, exist_ok=True)
    (root / "etc" / "orchestrator" / "node.conf").write_text("[node]\nname = bench\n")
    for i in range(n):
        parts = ["[DEFAULT]\nstatus_schedule = @0\nconfig_schedule = @0\n"
                 "resinfo_schedule = @0\ncomp_schedule = @0\n"]
        for j in range(10):
            sched = f"*/2 * * * * {i % 60}" if (frequent and j == 0) else "0 3 * * *"
            parts.append(f"[task#{j}]\ncommand = /bin/true\nschedule = {sched}\n")
        (services / f"s{i:04d}.conf").write_text("\n".join(parts))


def start_daemon(root: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRATOR_")}
    env.update(ORCHESTRATOR_ROOT=str(root), ORCHESTRATOR_LOG_FORMAT="json")
    with open(log, "wb") as fh:
        return subprocess.Popen([str(BIN / "nodemgr"), "daemon", "run"], env=env, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop_daemon(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_loaded(proc: subprocess.Popen[bytes], root: Path, n: int, timeout: float) -> float:
    """Seconds until the daemon's CPU goes quiet after loading (a proxy for 'loaded')."""
    import psutil

    p = psutil.Process(proc.pid)
    t0 = time.monotonic()
    p.cpu_percent(None)
    while time.monotonic() - t0 < timeout:
        time.sleep(1.0)
        if p.cpu_percent(None) < 20 and time.monotonic() - t0 > 3:
            return time.monotonic() - t0
    return time.monotonic() - t0


def watch(pid: int, seconds: float) -> tuple[float, int]:
    """The process's CPU (fraction of one core) over ``seconds``, and its RSS at the end."""
    import psutil

    p = psutil.Process(pid)
    c0, t0 = p.cpu_times(), time.monotonic()
    time.sleep(seconds)
    c1 = p.cpu_times()
    cpu = ((c1.user + c1.system) - (c0.user + c0.system)) / (time.monotonic() - t0)
    return cpu, p.memory_info().rss


def bench_idle(n: int, seconds: float) -> dict:

    with tempfile.TemporaryDirectory(prefix="bench-sched-") as tmp:
        root = Path(tmp) / "node"
        write_services(root, n, frequent=False)
        proc = start_daemon(root, Path(tmp) / "daemon.log")
        try:
            loaded = wait_loaded(proc, root, n, 120)
            cpu, rss = watch(proc.pid, seconds)
        finally:
            stop_daemon(proc)
    return {"services": n, "tasks": n * 10, "startup_quiet_s": round(loaded, 1),
            "idle_cpu_pct": round(cpu * 100, 2), "rss_mb": round(rss / 2**20, 1)}


def bench_skew(n: int, seconds: float) -> dict:

    with tempfile.TemporaryDirectory(prefix="bench-sched-") as tmp:
        root = Path(tmp) / "node"
        write_services(root, n, frequent=True)
        proc = start_daemon(root, Path(tmp) / "daemon.log")
        try:
            wait_loaded(proc, root, n, 120)
            start = time.time()
            busy, rss = watch(proc.pid, seconds)
        finally:
            stop_daemon(proc)
        stats = skew_stats(root / "var" / "lib" / "orchestrator" / "services", start)
    return {**stats, "busy_cpu_pct": round(busy * 100, 1), "rss_mb": round(rss / 2**20, 1)}


def skew_stats(var_services: Path, start: float) -> dict:
    from datetime import datetime

    skews = []
    statuses: dict[str, int] = {}
    for path in var_services.glob("*/runs/task#0/*.json"):
        doc = json.loads(path.read_text())
        statuses[doc["status"]] = statuses.get(doc["status"], 0) + 1
        if not (doc.get("started_at") and doc.get("scheduled_at")):
            continue
        sched = datetime.fromisoformat(doc["scheduled_at"]).timestamp()
        if sched < start:
            continue
        skews.append(datetime.fromisoformat(doc["started_at"]).timestamp() - sched)
    return {"runs": len(skews), "statuses": statuses,
            "skew_p50_ms": round(pct(skews, 50) * 1000, 1),
            "skew_p99_ms": round(pct(skews, 99) * 1000, 1),
            "skew_max_ms": round(max(skews, default=float("nan")) * 1000, 1)}


def bench_skew_cluster(n: int, seconds: float, frequent: bool = True) -> dict:
    """The same load on a one-node cluster: every run is a claim in ZooKeeper (fenced by the
    service's lease) and its record is written to ZooKeeper too. ``frequent=False``: nothing
    due (the clustered idle figure)."""

    sys.path.insert(0, str(REPO / "tests" / "cluster"))
    from daemons import Cluster, wait_until

    from orchestrator.coordination import Coordinator
    from orchestrator.devtools.zookeeper import ZooKeeperEnsemble

    with tempfile.TemporaryDirectory(prefix="bench-skew-cluster-") as tmp:
        zk = ZooKeeperEnsemble(Path(tmp) / "zk", size=1)
        zk.start()
        c = Cluster(Path(tmp) / "c", zk=zk.hosts + "/bench", names=("n1",))
        try:
            coord = Coordinator(zk.hosts + "/bench", c.cluster, "s3cret", c.session_timeout,
                                "bench-installer", connect_timeout=10.0)
            for i in range(n):
                tasks = "".join(
                    f"[task#{j}]\ncommand = /bin/true\nschedule = "
                    f"{f'*/2 * * * * {i % 60}' if frequent and j == 0 else '0 3 * * *'}\n\n"
                    for j in range(10))
                coord.put_service_config(
                    f"s{i:04d}", "[DEFAULT]\nnodes = n1\norchestrate = ha\n"
                    "status_schedule = @0\nconfig_schedule = @0\nresinfo_schedule = @0\n"
                    f"comp_schedule = @0\n\n{tasks}")
            coord.close()
            c.start()
            c.wait_joined()
            t0 = time.monotonic()
            wait_until(lambda: sum(1 for s in c.status().get("services", {}).values()
                                   if s.get("active_node") == "n1") >= n, 600, interval=2.0)
            up_s = time.monotonic() - t0
            time.sleep(5)
            start = time.time()
            busy, rss = watch(c.nodes["n1"].proc.pid, seconds)
            c.stop("n1")
            stats = skew_stats(c.nodes["n1"].root / "var" / "lib" / "orchestrator" / "services",
                               start)
        finally:
            c.close()
            zk.stop()
    return {**stats, "all_up_s": round(up_s, 1), "busy_cpu_pct": round(busy * 100, 1),
            "rss_mb": round(rss / 2**20, 1)}


def bench_failover(rounds: int) -> dict:
    sys.path.insert(0, str(REPO / "tests" / "cluster"))
    sys.path.insert(0, str(REPO / "tests"))
    from daemons import Cluster, wait_until
    from sched_support import read_runs, recording_task

    from orchestrator.devtools.zookeeper import ZooKeeperEnsemble

    out: dict[str, list[float]] = {"kill": [], "switch": []}
    with tempfile.TemporaryDirectory(prefix="bench-failover-") as tmp:
        zk = ZooKeeperEnsemble(Path(tmp) / "zk", size=1)
        zk.start()
        c = Cluster(Path(tmp) / "c", zk=zk.hosts + "/bench", names=("n1", "n2"))
        runs = c.base / "runs"
        try:
            c.start()
            c.wait_joined()
            c.create("svc1", c.ha_config(extra=recording_task(runs, "task#0", "@1s")))
            c.wait_up_only_on("n1")
            active, other = "n1", "n2"
            for i in range(rounds * 2):
                how = "kill" if i % 2 == 0 else "switch"
                time.sleep(2.5)
                t0 = time.time()
                if how == "kill":
                    c.kill(active)
                    (c.markers / f"{active}.up").unlink(missing_ok=True)
                else:
                    c.svc(active, "svc1", "switch", "--to", other, check=True)
                wait_until(lambda o=other, t=t0: any(r.node == o and r.ts > t
                                               for r in read_runs(runs)), 20)
                up = max(ts for ts, what, node in c.event_lines()
                         if (what, node) == ("start", other) and ts > t0)
                first = min(r.ts for r in read_runs(runs) if r.node == other and r.ts > t0)
                out[how].append(first - up)
                print(f"  {how:6} {active}->{other}: service up {up - t0:.2f}s after, "
                      f"first task run {first - up:.3f}s after up", flush=True)
                if how == "kill":
                    c.start(active)
                    c.wait_joined(active)
                active, other = other, active
        finally:
            c.close()
            zk.stop()
    return {k: {"n": len(v), "median_s": round(statistics.median(v), 3),
                "max_s": round(max(v), 3)} for k, v in out.items() if v}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--idle-seconds", type=float, default=30)
    ap.add_argument("--skew-seconds", type=float, default=150)
    ap.add_argument("--failover-rounds", type=int, default=3)
    ap.add_argument("--only", choices=("idle", "skew", "skew-cluster", "idle-cluster",
                                       "failover"))
    args = ap.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores", flush=True)
    if args.only in (None, "idle"):
        print("idle :", json.dumps(bench_idle(args.services, args.idle_seconds)), flush=True)
    if args.only in (None, "skew"):
        print("skew :", json.dumps(bench_skew(args.services, args.skew_seconds)), flush=True)
    if args.only in (None, "skew-cluster"):
        print("skew (one-node cluster):", json.dumps(bench_skew_cluster(args.services,
                                                                         args.skew_seconds)),
              flush=True)
    if args.only in (None, "idle-cluster"):
        out = bench_skew_cluster(args.services, args.idle_seconds, frequent=False)
        print("idle (one-node cluster):", json.dumps(
            {k: out[k] for k in ("all_up_s", "busy_cpu_pct", "rss_mb")}), flush=True)
    if args.only in (None, "failover"):
        print("failover (first task run after the service is up on the new node):", flush=True)
        print("      ", json.dumps(bench_failover(args.failover_rounds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
