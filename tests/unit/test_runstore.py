"""The file run store: records, running markers, max_parallel, stale runs, pruning."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

from orchestrator.runs import FileRunStore, RunRecord, RunStatus, new_run_id
from orchestrator.runs import store as store_mod
from orchestrator.taskrun import _process_identity


def rec(rid="task#0", status=RunStatus.RUNNING, started=True, **kw):
    now = datetime.now(UTC)
    pid, created = _process_identity()
    kw.setdefault("pid", pid)
    kw.setdefault("pid_started", created)
    return RunRecord(new_run_id(now), "svc", rid, "n1", "manual", status,
                     started_at=now if started else None, **kw)


def test_run_id_sortable():
    t = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    a, b = new_run_id(t), new_run_id(t + timedelta(microseconds=1))
    assert a.startswith("20260102T030405000006Z-") and a < b


def test_roundtrip_dict():
    r = rec(exit_code=3, reason="x")
    d = r.to_dict()
    assert d["status"] == "running" and d["started_at"].endswith("+00:00")
    assert RunRecord.from_dict(d) == r


def test_begin_max_parallel_and_finish(tmp_path):
    store = FileRunStore(tmp_path)
    first = rec()
    assert store.begin(first, max_parallel=1) == []
    blocking = store.begin(rec(), max_parallel=1)
    assert [r.run_id for r in blocking] == [first.run_id]
    assert store.begin(rec(), max_parallel=2) == []
    store.save(first.finished(RunStatus.OK, exit_code=0))
    assert len(store.running("task#0")) == 1
    assert store.last("task#0").run_id == first.run_id


def test_stale_marker_becomes_interrupted(tmp_path):
    store = FileRunStore(tmp_path)
    proc = subprocess.Popen(["true"])
    proc.wait()
    stale = rec(pid=proc.pid, pid_started=None)
    assert store.begin(stale, max_parallel=1) == []
    assert store.begin(rec(), max_parallel=1) == []  # the dead runner does not block
    done = {r.run_id: r for r in store.records()}[stale.run_id]
    assert done.status == RunStatus.INTERRUPTED and "vanished" in done.reason


def test_reused_pid_is_stale(tmp_path):
    store = FileRunStore(tmp_path)
    mine = rec()
    store.begin(rec(pid=mine.pid, pid_started=(mine.pid_started or 0) - 1000), max_parallel=1)
    assert store.running() == []


def test_last_ignores_not_started_and_running(tmp_path):
    store = FileRunStore(tmp_path)
    ok = rec().finished(RunStatus.OK, exit_code=0)
    store.save(ok)
    store.save(rec(started=False).finished(RunStatus.SKIPPED, reason="req"))
    store.begin(rec(), max_parallel=None)
    assert store.last("task#0").run_id == ok.run_id
    assert store.last("task#9") is None


def test_records_filter_order_and_prune(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "HISTORY_PER_JOB", 3)
    store = FileRunStore(tmp_path)
    made = []
    for i in range(5):
        r = rec("task#0" if i % 2 == 0 else "task#1").finished(RunStatus.OK, exit_code=0)
        store.log_path(r.rid, r.run_id).parent.mkdir(parents=True, exist_ok=True)
        store.log_path(r.rid, r.run_id).write_text("x")
        store.save(r)
        made.append(r)
    assert [r.run_id for r in store.records()] == [r.run_id for r in made]
    assert {r.rid for r in store.records(["task#1"])} == {"task#1"}
    for _ in range(3):
        store.save(rec("task#1").finished(RunStatus.OK, exit_code=0))
    assert len(store.records(["task#1"])) == 3
    assert not store.log_path("task#1", made[1].run_id).exists()
    assert FileRunStore(tmp_path / "none").records() == []


def test_a_run_whose_runner_died_is_running_while_its_command_lives(tmp_path):
    """svcmgr run SIGKILLed: its command, in its own session, goes on; max_parallel holds."""
    from orchestrator.taskrun import _read_identity

    store = FileRunStore(tmp_path)
    runner = subprocess.Popen(["true"])
    runner.wait()
    orphan = subprocess.Popen(["sleep", "30"])
    try:
        first = rec(pid=runner.pid, pid_started=None)
        assert store.begin(first, max_parallel=1) == []
        store.note_command(first, orphan.pid, _read_identity(orphan.pid)[1])
        assert [r.run_id for r in store.begin(rec(), max_parallel=1)] == [first.run_id]
    finally:
        orphan.kill()
        orphan.wait()
    assert store.begin(rec(), max_parallel=1) == []  # the command is gone too: stale now
    done = {r.run_id: r for r in store.records()}[first.run_id]
    assert done.status == RunStatus.INTERRUPTED
    assert f"command pid {orphan.pid}" in done.reason and "vanished" in done.reason
