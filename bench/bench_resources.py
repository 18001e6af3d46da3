"""Start, stop, switch and failover times of a service of real resources (issue 13).

Two node agents on this machine (one local ZooKeeper, session timeout 2 s) run the service
of tests/cluster/resources_support.py: an address on each node's veth into a LAN namespace,
ext4 on a loop disk, a podman container, a simple app and a podman task. Each round:

* start: ``svcmgr start`` (returns when the instance is up);
* switch: ``svcmgr switch --to`` the other node (returns when up there);
* failover: SIGKILL of the active node's agent until every part is up on the other node
  (its fence keeper stops what it ran; the other node starts when the session expires);
  the killed agent is restarted afterwards;
* stop: ``svcmgr stop`` (returns when stopped everywhere).

Needs root (namespaces, loop devices, mounts) and podman, as the tests do.
Usage: .venv/bin/python bench/bench_resources.py [--runs 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "cluster")]

from container_support import export_engine_env  # noqa: E402
from daemons import Cluster, wait_until  # noqa: E402
from resources_support import real_parts  # noqa: E402

from orchestrator.devtools.zookeeper import start_server  # noqa: E402

SVC = "benchreal"


def line(name: str, values: list[float]) -> str:
    return (f"{name:<9} n={len(values):<3} p50 {statistics.median(values):6.2f} s  "
            f"min {min(values):6.2f} s  max {max(values):6.2f} s")


def timed(fn) -> float:  # noqa: ANN001
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    export_engine_env()
    base = Path(tempfile.mkdtemp(prefix="bench-resources-"))
    server = start_server(base / "zk")
    results: dict[str, list[float]] = {"start": [], "switch": [], "failover": [], "stop": []}
    try:
        with real_parts(base, SVC) as parts:
            c = Cluster(base / "cluster", f"{server.hosts}/bench", names=("n1", "n2"))
            try:
                c.start()
                c.wait_joined()
                c.create(SVC, parts.config())
                wait_until(lambda: all(parts.held_by(c, "n1").values()), 60, what="up on n1")
                c.svc("n1", SVC, "stop", check=True)
                for _ in range(args.runs):
                    results["start"].append(timed(
                        lambda: c.svc("n1", SVC, "start", check=True)))
                    active = c.active_node(SVC)
                    other = "n2" if active == "n1" else "n1"
                    results["switch"].append(timed(
                        lambda o=other: c.svc("n1", SVC, "switch", "--to", o, check=True)))
                    victim, survivor = other, active
                    t0 = time.monotonic()
                    c.kill(victim)
                    wait_until(lambda s=survivor: all(parts.held_by(c, s).values()), 60,
                               what=f"up on {survivor}")
                    results["failover"].append(time.monotonic() - t0)
                    c.start(victim)
                    c.wait_joined()
                    results["stop"].append(timed(
                        lambda s=survivor: c.svc(s, SVC, "stop", check=True)))
                    c.svc(survivor, SVC, "clear", check=True)
            finally:
                c.close()
    finally:
        server.stop()
    print(f"# {platform.node()} {platform.machine()}, python {platform.python_version()}, "
          f"{args.runs} rounds; service: ip + disk loop + ext4 fs + podman container + "
          "simple app + podman task")
    for name, values in results.items():
        print(line(name, values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
