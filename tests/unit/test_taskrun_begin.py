"""taskrun.execute when the run store cannot begin the run (no command is started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config.node import NodeConfig
from orchestrator.config.service import parse_service
from orchestrator.coordination import CoordinationError, MemoryStore, NotConnected
from orchestrator.paths import NodePaths
from orchestrator.runs import RunRecord, RunStatus
from orchestrator.service import Service
from orchestrator.taskrun import TaskRun, execute

CONFIG = """
[task#0]
command = /bin/true
max_parallel = 1
"""


class BrokenSlotStore:
    """A cluster store whose slot cannot be taken (ZooKeeper lost between claim and begin)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.saved: list[RunRecord] = []

    def log_path(self, rid: str, run_id: str) -> Path:
        return self.base / rid / f"{run_id}.log"

    def begin(self, record: RunRecord, max_parallel: int | None = None) -> list[RunRecord]:
        raise CoordinationError("take a run slot of svc/task#0: not connected (suspended)")

    def note_command(self, record: RunRecord, pid: int, started: float | None) -> None:
        raise AssertionError("no command may start without a run slot")

    def save(self, record: RunRecord) -> None:
        self.saved.append(record)

    def records(self, rids: object = None) -> list[RunRecord]:
        return list(self.saved)

    def last(self, rid: str) -> RunRecord | None:
        return None


@pytest.fixture
def svc(tmp_path: Path) -> Service:
    node = NodeConfig("n1", NodePaths(tmp_path), {})
    return Service(parse_service(CONFIG, "svc.conf", "svc", "n1"), node)


def test_a_slot_that_cannot_be_taken_leaves_a_final_record_with_the_cause(svc, tmp_path):
    store = BrokenSlotStore(tmp_path)
    run = TaskRun(origin="scheduler", store=store)
    record = execute(svc, svc.resource("task#0"), run)
    assert record.status == RunStatus.REFUSED
    assert record.reason.startswith("could not take the run slot: ")
    assert "not connected (suspended)" in record.reason
    assert record.ended_at is not None and record.pid is None
    assert store.saved == [record]


def test_the_cluster_store_records_a_run_whose_slot_could_not_be_taken(svc, tmp_path):
    from orchestrator.runs import FileRunStore
    from orchestrator.runs.cluster_store import ClusterRunStore

    # ZooKeeper as seen between a claim and the slot: the slot's request fails
    coord = MemoryStore("n1")
    coord.fail("take_run_slot",
               NotConnected("take a run slot of svc/task#0: connection suspended"))
    store = ClusterRunStore(coord, "svc", FileRunStore(tmp_path / "runs"))
    record = execute(svc, svc.resource("task#0"), TaskRun(store=store))
    assert record.status == RunStatus.REFUSED
    assert record.reason == ("could not take the run slot: "
                             "take a run slot of svc/task#0: connection suspended")
    assert [d["run_id"] for d in coord.run_records("svc", "task#0")] == [record.run_id]
    assert coord.running_runs("svc", "task#0") == []  # no slot was taken
    assert store.local.records(["task#0"]) == [record]
    assert store.local.running() == []


def test_a_record_that_cannot_be_saved_either_is_still_returned(svc, tmp_path):
    store = BrokenSlotStore(tmp_path)

    def save(record: RunRecord) -> None:
        raise OSError(28, "No space left on device")

    store.save = save  # type: ignore[method-assign]
    record = execute(svc, svc.resource("task#0"), TaskRun(store=store))
    assert record.status == RunStatus.REFUSED and "not connected" in record.reason
