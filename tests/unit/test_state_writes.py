"""State files written from several threads at once (node jobs end side by side in the
worker pool; the monitor and the status job both write an instance's state): no write is
lost and none fails (seen in the suite: a node job's last run lost, FileNotFoundError)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from orchestrator.config.node import NodeConfig
from orchestrator.jobs.node_kinds import NodeState
from orchestrator.paths import NodePaths
from orchestrator.runs import RunRecord, RunStatus, new_run_id
from orchestrator.service import LocalState


def hammer(fns, rounds: int = 200) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(fns))

    def run(fn) -> None:
        barrier.wait()
        try:
            for i in range(rounds):
                fn(i)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_node_jobs_ending_together_keep_both_last_runs(tmp_path):
    state = NodeState(NodeConfig("n1", NodePaths(tmp_path), {}))

    def save(action: str):
        def one(_i: int) -> None:
            now = datetime.now(UTC)
            state.save(RunRecord(new_run_id(now), "", action, "n1", "scheduler", RunStatus.OK,
                                 started_at=now, ended_at=now))
        return one

    assert hammer([save("pushasset"), save("compliance_auto")]) == []
    assert set(state.read()["last"]) == {"pushasset", "compliance_auto"}


def test_instance_state_updates_from_two_threads_are_all_kept(tmp_path):
    state = LocalState(tmp_path / "state.json")
    errors = hammer([lambda i: state.update("apps", f"a{i}", True),
                     lambda i: state.update("status", f"s{i}", i)])
    assert errors == []
    data = state.read()
    assert len(data["apps"]) == 200 and len(data["status"]) == 200
