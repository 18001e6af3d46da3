"""A collector outage seen from real daemons: two clustered nodes push every second (task
runs, node assets); the collector is SIGKILLed, stays down a few slots, and comes back on the
same port and database. Every run record the cluster kept (ZooKeeper, ``print runs``), the
skipped runs included, is in the collector exactly once, and each node's pushes arrived in the
order they were queued."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from daemons import wait_until

from orchestrator.devtools.collector import CollectorProcess

OUTAGE = 4.0  # seconds: a few @1s slots


def service(c, name: str, nodes: tuple[str, ...]) -> str:  # noqa: ANN001
    marker = f"{c.markers}/{name}.{{nodename}}.up"
    return (f"[DEFAULT]\nnodes = {' '.join(nodes)}\norchestrate = ha\n\n"
            f"[app#0]\nstart = touch {marker}\nstop = rm -f {marker}\ncheck = test -f {marker}\n\n"
            "[task#0]\ncommand = /bin/true\nschedule = @1s\n\n"
            # every node runs it for itself: ok on the passive node, skipped on the active one
            "[task#1]\ncommand = /bin/true\nschedule = @2s\nrun_requires = app#0(down)\n")


def when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def test_every_record_made_during_a_collector_outage_arrives_once_in_order(make_cluster,
                                                                           tmp_path):
    c = make_cluster(names=("n1", "n2"))
    collector = CollectorProcess(tmp_path, tokens={c.cluster: "t0ken"}).start()
    try:
        for node in c.nodes.values():
            collector.point(node.root / "etc" / "orchestrator" / "node.conf", c.cluster,
                            "pushasset_schedule = @1s\n")
        c.start()
        c.wait_joined()
        c.create("svc1", service(c, "svc1", ("n1", "n2")))
        c.create("svc2", service(c, "svc2", ("n2", "n1")))
        wait_until(lambda: (c.active_node("svc1"), c.active_node("svc2")) == ("n1", "n2"), 20,
                   what="svc1 active on n1, svc2 on n2")

        def pushed() -> dict[str, dict]:
            return {r["run_id"]: r for r in collector.get("/api/v1/runs?limit=1000")}

        wait_until(lambda: {r["node"] for r in pushed().values()} == {"n1", "n2"}, 20,
                   what="task runs of both nodes in the collector")

        collector.kill()
        killed_at = datetime.now(UTC)  # after: whatever is saved from now on waits in queues
        time.sleep(OUTAGE)
        restarted_at = datetime.now(UTC)
        collector.start()  # same port, same database

        def kept() -> dict[str, dict]:
            """Every run record the cluster keeps, as any node prints them (from ZooKeeper)."""
            out = {}
            for svc in ("svc1", "svc2"):
                res = c.svc("n1", svc, "print", "runs", "--format", "json", check=True)
                out.update({r["run_id"]: r for r in json.loads(res.stdout)})
            return out

        cut = restarted_at  # compare what ended before the restart: nothing of it may be missing

        def ended_before(records: dict[str, dict]) -> dict[str, dict]:
            return {k: r for k, r in records.items() if when(r["ended_at"]) and
                    when(r["ended_at"]) < cut}

        def converged() -> bool:
            return set(ended_before(kept())) <= set(pushed())

        wait_until(converged, 30, interval=0.5, what="the outage's records in the collector")
        cluster, collected = ended_before(kept()), ended_before(pushed())
        assert set(collected) == set(cluster)  # none lost, none invented
        during = {k: r for k, r in cluster.items() if when(r["ended_at"]) >= killed_at}
        for node in ("n1", "n2"):
            assert sum(r["node"] == node for r in during.values()) >= 2, (node, during)
        assert {r["status"] for r in during.values()} >= {"ok", "skipped"}
        for run_id, record in cluster.items():
            got = collected[run_id]
            assert {k: got[k] for k in record} == record  # the very record ZooKeeper keeps
            if run_id in during:
                assert when(got["received_at"]) >= restarted_at  # it waited in the queue

        for node in ("n1", "n2"):  # per node: received in the order queued, each push once
            ledger = collector.get(f"/api/v1/pushes?node={node}&limit=1000")
            seqs = [p["seq"] for p in ledger]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), node
            kinds = {p["kind"] for p in ledger}
            assert {"runs", "nodes"} <= kinds
            queued_during = [p for p in ledger
                             if killed_at.timestamp() * 1e6 <= p["seq"]
                             <= restarted_at.timestamp() * 1e6]
            assert {p["kind"] for p in queued_during} >= {"runs", "nodes"}, (node, ledger)
            assert all(when(p["received_at"]) >= restarted_at for p in queued_during)
            queue = c.nodes[node].root / "var" / "lib" / "orchestrator" / "collector-queue"
            wait_until(lambda q=queue: not list(q.glob("*.json")), 10,
                       what=f"{node}'s queue drained")
        assert not list((c.nodes["n1"].root / "var" / "lib" / "orchestrator" /
                         "collector-queue").glob("rejected/*"))
    finally:
        collector.kill()
