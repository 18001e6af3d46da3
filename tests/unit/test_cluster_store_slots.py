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


def test_a_run_a_crash_left_begun_is_finished_interrupted_and_reaches_the_cluster(tmp_path):
    """A whole-node crash between a run's begin and its command's start: its slot is claimed
    but nothing ever ran it; the next agent records why (the nemesis soak's finding)."""
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    coord = MemoryStore("n1")
    seen = MemoryStore("n2", coord.cluster)
    store = ClusterRunStore(coord, "svc", FileRunStore(tmp_path))
    record = RunRecord(new_run_id(), "svc", "task#0", "n1", "scheduler", RunStatus.RUNNING,
                       started_at=datetime.now(UTC), pid=dead.pid, pid_started=0.0)
    assert store.begin(record) == []
    restarted = ClusterRunStore(coord, "svc", FileRunStore(tmp_path))  # the next agent
    stale = restarted.finish_stale()
    assert [r.run_id for r in stale] == [record.run_id]
    assert stale[0].status == RunStatus.INTERRUPTED and "vanished" in stale[0].reason
    assert [(r["run_id"], r["status"]) for r in seen.run_records("svc")] == [
        (record.run_id, "interrupted")]
    assert restarted.finish_stale() == []  # once
