"""The cluster run store's max_parallel slot: kept until ZooKeeper confirms its release, so a
release lost with the connection is retried instead of leaking the slot for good."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.coordination import CoordinationError
from orchestrator.runs import FileRunStore, RunRecord, RunStatus, new_run_id
from orchestrator.runs.cluster_store import ClusterRunStore


class Coord:
    """In-memory slots and records; ``down`` makes every call fail like a lost connection."""

    def __init__(self) -> None:
        self.slots: set[str] = set()
        self.records: list[dict] = []
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise CoordinationError("not connected (suspended)")

    def take_run_slot(self, svc, key, max_parallel, doc):
        self._check()
        path = f"/{svc}/{key}/{doc['run_id']}"
        self.slots.add(path)
        return path

    def release_run_slot(self, path):
        self._check()
        self.slots.discard(path)

    def append_run_record(self, svc, rid, doc):
        self._check()
        self.records.append(doc)


def test_a_failed_release_is_retried_at_the_next_flush(tmp_path):
    coord = Coord()
    store = ClusterRunStore(coord, "svc", FileRunStore(tmp_path))
    record = RunRecord(new_run_id(), "svc", "task#0", "n1", "scheduler", RunStatus.RUNNING,
                       started_at=datetime.now(UTC))
    assert store.begin(record, max_parallel=1) == []
    assert len(coord.slots) == 1
    coord.down = True
    store.save(record.finished(RunStatus.OK, exit_code=0))  # release and record both fail
    assert len(coord.slots) == 1
    coord.down = False
    store.flush()
    assert coord.slots == set(), "the slot leaked"
    assert [r["status"] for r in coord.records] == ["ok"]  # the queued record went too
