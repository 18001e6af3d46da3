"""Resource monitoring times with real node agents and a real ZooKeeper (issue 12).

Starts a local ZooKeeper and three ``nodemgr daemon run`` processes (session timeout 2 s),
installs a failover service whose monitored app is a detached ``sleep`` with a pidfile
(tests/cluster/monitor_support.py; ``monitor_action = switch``, ``restart = 1``,
``restart_delay = 500ms``, ``monitor_schedule`` from ``--schedule``), then ``--runs`` times
each:

* kill-to-restart: SIGKILL the app's process on the active node; time until a new app
  process is alive on the same node (the monitor's next run sees it down and restarts it).
* kill-to-relocated: make the app's start fail on the active node, SIGKILL its process;
  time until the app is alive on another node (one failed restart attempt, then switch: the
  node is marked failed, stops and releases the lease, the next node starts it). Then
  ``svcmgr clear`` and the node is repaired for the next run.

The kill lands at a random point of the monitor's period, so kill-to-restart is spread over
[0, schedule] plus the detection and the start; its bound is schedule + restart_delay.

Usage: .venv/bin/python bench/bench_monitor.py [--runs 5] [--schedule @2s]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "cluster")]

from daemons import Cluster, wait_until  # noqa: E402
from monitor_support import (  # noqa: E402
    alive,
    app_pid,
    break_node,
    kill_all_apps,
    kill_app,
    monitored_config,
)

from orchestrator.devtools.zookeeper import start_server  # noqa: E402


def line(name: str, values: list[float]) -> str:
    return (f"{name:<18} n={len(values):<3} min {min(values):5.2f} s  p50 "
            f"{statistics.median(values):5.2f} s  max {max(values):5.2f} s")


def active(c: Cluster) -> str:
    return wait_until(lambda: next((n for n in c.names if alive(app_pid(c, n))), None), 30,
                      what="the app alive on a node")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--schedule", default="@2s")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="bench-monitor-"))
    server = start_server(base / "zk")
    c = Cluster(base / "cluster", f"{server.hosts}/bench")
    restarts: list[float] = []
    relocations: list[float] = []
    try:
        c.start()
        c.wait_joined()
        c.create("svc1", monitored_config(c, action="switch", restart=1,
                                          schedule=args.schedule))
        for i in range(args.runs):
            node = active(c)
            old = app_pid(c, node)
            time.sleep(rng.uniform(0.5, 2.5))  # a random point of the monitor's period
            t0 = time.monotonic()
            kill_app(c, node)
            wait_until(lambda n=node, o=old: (p := app_pid(c, n)) != o and alive(p), 120,
                       interval=0.005, what=f"the app restarted on {node}")
            restarts.append(time.monotonic() - t0)
            print(f"kill-to-restart {i + 1}: on {node} {restarts[-1]:.2f} s", flush=True)
        for i in range(args.runs):
            node = active(c)
            time.sleep(rng.uniform(0.5, 2.5))
            break_node(c, node)
            t0 = time.monotonic()
            kill_app(c, node)
            new = wait_until(lambda n=node: next((m for m in c.names
                                                  if m != n and alive(app_pid(c, m))), None),
                             120, interval=0.005, what="the app alive on another node")
            relocations.append(time.monotonic() - t0)
            print(f"kill-to-relocated {i + 1}: {node} -> {new} {relocations[-1]:.2f} s",
                  flush=True)
            break_node(c, node, broken=False)
            c.svc(new, "svc1", "clear", check=True)
    except BaseException:
        print(c.dump_logs(), file=sys.stderr)
        raise
    finally:
        c.close()
        kill_all_apps(c)
        server.stop()
    print(f"\n{args.runs} runs, 3 daemons, monitor_schedule {args.schedule}, restart 1, "
          f"restart_delay 500ms, session timeout 2 s, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(line("kill-to-restart", restarts))
    print(line("kill-to-relocated", relocations))
    return 0


if __name__ == "__main__":
    sys.exit(main())
