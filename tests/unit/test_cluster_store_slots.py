"""The cluster run store's max_parallel slot: kept until ZooKeeper confirms its release, so a
release lost with the connection is retried instead of leaking the slot for good."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.coordination import MemoryStore
from orchestrator.runs import FileRunStore, RunRecord, RunStatus, new_run_id
from orchestrator.runs.cluster_store import ClusterRunStore


def test_a_failed_release_is_retried_at_the_next_flush(tmp_path):
    coord = MemoryStore("n1")
    seen = MemoryStore("n2", coord.cluster)  # the cluster as another node sees it
    store = ClusterRunStore(coord, "svc", FileRunStore(tmp_path))
    record = RunRecord(new_run_id(), "svc", "task#0", "n1", "scheduler", RunStatus.RUNNING,
                       started_at=datetime.now(UTC))
    assert store.begin(record, max_parallel=1) == []
    assert len(seen.running_runs("svc", "task#0")) == 1
    coord.suspend()
    store.save(record.finished(RunStatus.OK, exit_code=0))  # release and record both fail
    assert len(seen.running_runs("svc", "task#0")) == 1
    coord.resume()
    store.flush()
    assert seen.running_runs("svc", "task#0") == [], "the slot leaked"
    assert [r["status"] for r in seen.run_records("svc")] == ["ok"]  # the queued record went too
