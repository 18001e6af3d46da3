"""Failover and switch times with real node agents and a real ZooKeeper.

Starts a local ZooKeeper (tickTime 500) and three ``nodemgr daemon run`` processes on this
machine (session timeout 2 s), installs a failover service whose app touches a marker file
per node, then, ``--runs`` times each:

* failover: SIGKILL the active node's daemon; time until the service's marker appears on
  another node (its ``check`` passes there). The killed daemon is restarted afterwards.
* switch: wall clock of ``svcmgr -s SVC switch --to NODE`` (returns when up there), to each
  other node in turn.

Usage: .venv/bin/python bench/bench_failover.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchstats import percentile

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "cluster")]

from daemons import Cluster, wait_until  # noqa: E402

from orchestrator.devtools.zookeeper import start_server  # noqa: E402


def line(name: str, values: list[float]) -> str:
    return (f"{name:<10} n={len(values):<3} p50 {statistics.median(values):6.2f} s  "
            f"p95 {percentile(values, 95):6.2f} s  max {max(values):6.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-failover-"))
    server = start_server(base / "zk")
    c = Cluster(base / "cluster", f"{server.hosts}/bench")
    failovers: list[float] = []
    switches: list[float] = []
    try:
        c.start()
        c.wait_joined()
        c.create("svc1", c.ha_config())
        c.wait_up_only_on("n1")
        for i in range(args.runs):
            active = wait_until(lambda: c.active_node("svc1"), 10, what="an active node")
            before = c.up_nodes()
            t0 = time.monotonic()
            c.kill(active)
            new = wait_until(lambda b=before: (c.up_nodes() - b) or None, 15, interval=0.005,
                             what="the service up on another node")
            failovers.append(time.monotonic() - t0)
            print(f"failover {i + 1}: {active} -> {','.join(new)} {failovers[-1]:.2f} s",
                  flush=True)
            (c.markers / f"{active}.up").unlink(missing_ok=True)  # its app died with it
            c.start(active)
            c.wait_joined()
        for i in range(args.runs):
            active = wait_until(lambda: c.active_node("svc1"), 10, what="an active node")
            others = [n for n in c.names if n != active]
            to = others[i % len(others)]
            t0 = time.monotonic()
            c.svc(others[(i + 1) % len(others)], "svc1", "switch", "--to", to, check=True)
            switches.append(time.monotonic() - t0)
            assert c.up_nodes() == {to}, c.up_nodes()
            print(f"switch {i + 1}: {active} -> {to} {switches[-1]:.2f} s", flush=True)
    except BaseException:
        print(c.dump_logs(), file=sys.stderr)
        raise
    finally:
        c.close()
        server.stop()
    print(f"\n{args.runs} runs, 3 daemons, session timeout 2 s, ZooKeeper tickTime 500, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    print(line("failover", failovers))
    print(line("switch", switches))
    return 0


if __name__ == "__main__":
    sys.exit(main())
