"""Soak test of the daemon's scheduler: random switches and SIGKILLs for a few minutes.

3 clustered daemons on a local ZooKeeper (tests/cluster/daemons.py); one failover service with
an ``@1s`` task that records (node, slot) of each run. Every few seconds: a switch to a random
other node, or a SIGKILL of the active daemon (restarted a few seconds later). At the end,
from the tasks' own lines and the cluster's run records:

* slots due: every 1 s slot from the first run to the last;
* slots run; duplicates (a slot started twice, on any nodes): must be 0;
* missed and recorded (``print runs`` status ``missed``, misfire=once while nobody held the
  lease); misses beyond the policy (a slot neither run nor recorded missed): must be 0.

Rerun: .venv/bin/python bench/soak_scheduler.py --minutes 3   (exit 1 on a duplicate or miss)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "cluster"))
sys.path.insert(0, str(REPO / "tests"))

from daemons import Cluster, wait_until  # noqa: E402
from sched_support import read_runs, recording_task  # noqa: E402

from orchestrator.devtools.zookeeper import ZooKeeperEnsemble  # noqa: E402


def poll_missed(c: Cluster, missed: set[int]) -> list[dict]:
    """Add the slots recorded as missed (print runs, from a live node) to ``missed``."""
    reader = next((n for n in c.names if c.nodes[n].alive), None)
    if reader is None:
        return []
    res = c.svc(reader, "svc1", "print", "runs", "--format", "json")
    if res.returncode != 0:
        return []
    records = json.loads(res.stdout)
    missed |= {round(datetime.fromisoformat(r["scheduled_at"]).timestamp()) for r in records
               if r["status"] == "missed"}
    return records


def soak(minutes: float, seed: int, base: Path) -> dict:
    rng = random.Random(seed)
    zk = ZooKeeperEnsemble(base / "zk", size=1)
    zk.start()
    c = Cluster(base / "c", zk=zk.hosts + "/soak")
    runs_file = c.base / "runs"
    actions: Counter[str] = Counter()
    missed: set[int] = set()
    try:
        c.start()
        c.wait_joined()
        c.create("svc1", c.ha_config(extra=recording_task(runs_file, "task#0", "@1s")))
        c.wait_up_only_on("n1")
        wait_until(lambda: read_runs(runs_file), 10, what="a first run")
        deadline = time.monotonic() + minutes * 60
        dead: dict[str, float] = {}
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(2.0, 5.0))
            now = time.monotonic()
            for name, since in list(dead.items()):
                if now - since > 3:
                    c.start(name)
                    del dead[name]
                    actions["restart"] += 1
            poll_missed(c, missed)  # records are pruned to the last 100: collect as we go
            try:
                active = c.active_node("svc1")
            except Exception:  # noqa: BLE001 - mid-failover, try again next round
                continue
            if active is None:
                continue
            if rng.random() < 0.5 and not dead:
                c.kill(active)
                (c.markers / f"{active}.up").unlink(missing_ok=True)  # its app died with it
                dead[active] = time.monotonic()
                actions["sigkill"] += 1
            else:
                alive = [n for n in c.names if c.nodes[n].alive and n != active]
                if not alive:
                    continue
                res = c.svc(alive[0], "svc1", "switch", "--to", rng.choice(alive))
                actions["switch" if res.returncode == 0 else "switch_failed"] += 1
        for name in list(dead):
            c.start(name)
        time.sleep(4)
        records = poll_missed(c, missed)
    finally:
        c.close()
        zk.stop()
    runs = read_runs(runs_file)
    ran = Counter(round(datetime.fromisoformat(r.slot).timestamp()) for r in runs)
    first, last = min(ran), max(ran)
    due = set(range(first, last + 1))
    lost = sorted(due - set(ran) - missed)
    return {
        "minutes": minutes, "seed": seed, "actions": dict(actions),
        "slots_due": len(due), "slots_run": len(ran),
        "duplicates": sum(n - 1 for n in ran.values() if n > 1),
        "missed_recorded": len(missed & due),
        "misses_beyond_policy": len(lost), "lost_slots": lost[:20],
        "runs_per_node": dict(Counter(r.node for r in runs)),
        "records": len(records),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-sched-") as tmp:
        result = soak(args.minutes, args.seed, Path(tmp))
    print(json.dumps(result, indent=1))
    return 0 if result["duplicates"] == 0 and result["misses_beyond_policy"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
