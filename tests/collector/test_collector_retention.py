"""History retention: run records and ledger rows older than ``--retention DAYS`` go; latest
states (nodes, status, compliance) stay, whatever their age."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from collector_support import CollectorProcess, collector_env, get, push

from orchestrator.collector.model import parse_push
from orchestrator.collector.retention import Pruner, cutoff
from orchestrator.collector.sqlite_store import SQLiteStore

NOW = datetime.now(UTC)


def _run(i: int, service: str = "web") -> dict[str, object]:
    return {"run_id": f"20260101T0000{i:02d}000000Z-{i:06x}", "service": service,
            "rid": "task#0", "status": "ok", "exit_code": 0}


def ingest(store: SQLiteStore, kind: str, items: list, seq: int, age_days: float,
           node: str = "n1", cluster: str = "alpha") -> None:
    received = (NOW - timedelta(days=age_days)).isoformat(timespec="milliseconds")
    assert store.ingest(parse_push(cluster, kind, {"node": node, "seq": seq, "items": items},
                                   received))


def old_and_new(db: Path) -> None:
    """40-day-old history of cluster alpha (and beta, which then went quiet), plus today's."""
    store = SQLiteStore(db)
    ingest(store, "runs", [_run(1), _run(2)], 1, 40)
    ingest(store, "nodes", [{"asset": {"os_name": "Linux"}}], 2, 40)
    ingest(store, "status", [{"service": "web", "avail": "up"}], 3, 40)
    ingest(store, "compliance", [{"module": "ntp", "status": "ok"}], 4, 40)
    ingest(store, "runs", [_run(9, "db")], 1, 40, node="b1", cluster="beta")
    ingest(store, "status", [{"service": "db", "avail": "up"}], 2, 40, node="b1",
           cluster="beta")
    ingest(store, "runs", [_run(3)], 5, 1)
    store.close()


def test_prune_deletes_old_history_and_keeps_latest_states(tmp_path: Path) -> None:
    old_and_new(tmp_path / "c.db")
    store = SQLiteStore(tmp_path / "c.db")
    assert store.prune(cutoff(NOW, 30)) == {"runs": 3, "pushes": 6}
    assert [r["run_id"] for r in store.runs()] == [_run(3)["run_id"]]
    assert [(p["cluster"], p["seq"]) for p in store.pushes()] == [("alpha", 5)]
    assert [n["node"] for n in store.nodes()] == ["n1"]
    assert [(i["cluster"], i["service"]) for i in store.instances()] == [("alpha", "web"),
                                                                        ("beta", "db")]
    assert [c["module"] for c in store.compliance()] == ["ntp"]
    assert store.clusters() == ["alpha", "beta"]  # beta has no push left, still shown
    assert store.prune(cutoff(NOW, 30)) == {"runs": 0, "pushes": 0}
    store.close()


def test_collector_prunes_at_start_unless_retention_is_zero(tmp_path: Path) -> None:
    old_and_new(tmp_path / "collector.db")
    collector = CollectorProcess(tmp_path, "--retention", "0").start()
    try:
        assert len(get(collector, "/api/v1/runs")) == 4  # 0 = keep everything
    finally:
        collector.kill()
    collector.extra = ("--retention", "30")
    collector.start()
    try:  # pruned before it listens
        assert [r["run_id"] for r in get(collector, "/api/v1/runs")] == [_run(3)["run_id"]]
        assert [p["seq"] for p in get(collector, "/api/v1/pushes")] == [5]
        assert get(collector, "/api/v1/services?cluster=beta")[0]["active_node"] == "b1"
        assert "retention: deleted 3 run records and 6 ledger rows received before" \
            in collector.stderr()
        # today's pushes are kept, and a push seen before is still a duplicate
        assert push(collector, "runs", {"node": "n1", "seq": 5, "items": [_run(3)]})[1][
            "duplicate"] is True
        assert push(collector, "runs", {"node": "n1", "seq": 6, "items": [_run(4)]})[0] == 200
        assert len(get(collector, "/api/v1/runs")) == 2
    finally:
        collector.kill()


def test_pruner_runs_periodically(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    pruner = Pruner(store, days=1, every=0.1)
    pruner.start()
    try:
        ingest(store, "runs", [_run(1)], 1, 2)  # arrives after the pruner started
        ingest(store, "runs", [_run(2)], 2, 0.5)
        deadline = time.monotonic() + 10
        while len(store.runs()) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r["run_id"] for r in store.runs()] == [_run(2)["run_id"]]
    finally:
        pruner.stop()
        store.close()


@pytest.mark.parametrize("value", ["-1", "many", "nan", "inf"])
def test_bad_retention_is_usage_error(tmp_path: Path, value: str) -> None:
    out = subprocess.run([sys.executable, "-m", "orchestrator.collector", "serve", "--listen",
                          "127.0.0.1:0", "--db", str(tmp_path / "db"), "--token", "a=b",
                          "--retention", value], capture_output=True, text=True, timeout=30,
                         env=collector_env())
    assert out.returncode == 2 and "--retention" in out.stderr, out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
