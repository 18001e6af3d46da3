"""The nemesis soak's checker (bench/nemesis_check.py) on synthetic intervals and records."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import nemesis_check as nc  # noqa: E402

T0 = 1_800_000_000.0  # an even epoch second


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def task_lines(*runs: tuple[str, float, float | None, float | None, str]) -> list[str]:
    """(node, slot, begin, end, run_id) -> begin/end lines as the task writes them."""
    out = []
    for node, slot, begin, end, run_id in runs:
        if begin is not None:
            out.append(f"{begin} begin {node} {iso(slot)} {run_id} 123")
        if end is not None:
            out.append(f"{end} end {node} {iso(slot)} {run_id} ok")
    return out


def on_time_runs(first: float, count: int, node: str = "n1", period: float = 2.0,
                 skip: tuple[int, ...] = ()) -> list[tuple]:
    return [(node, first + k * period, first + k * period + 0.03, first + k * period + 1.03,
             f"r{k}") for k in range(count) if k not in skip]


def record(slot: float, status: str, node: str = "n2", run_id: str | None = None,
           started: float | None = None, ended: float | None = None) -> dict:
    return {"run_id": run_id or f"rec-{slot}-{status}", "rid": "task#0", "node": node,
            "status": status, "scheduled_at": iso(slot),
            "started_at": iso(started) if started else None,
            "ended_at": iso(ended if ended is not None else slot + 0.1)}


def meta(start: float = T0, end: float = T0 + 60, until: float | None = None) -> dict:
    return {"started_at": start, "ended_at": end, "period": 2.0,
            "checked_until": end - 4 if until is None else until, "rid": "task#0"}


def run_check(events=(), tasks=(), records=(), faults=(), m=None) -> nc.Report:
    return nc.check(nc.parse_events(events), nc.parse_tasks(tasks), list(records),
                    list(faults), m or meta())


# ----------------------------------------------------------------------------- the app


def test_app_handover_without_overlap_passes():
    events = [f"{T0} start n1", f"{T0 + 10} stop n1", f"{T0 + 12} start n2"]
    rep = run_check(events=events)
    assert rep.app_overlaps == []
    assert rep.app_intervals == 2
    # up 10 s, down 2 s, then up to the end (48 s): 58 of 60 s
    assert rep.availability == pytest.approx(100 * 58 / 60)
    assert rep.app_down_longest == pytest.approx(2.0)


def test_app_up_on_two_nodes_is_flagged():
    events = [f"{T0} start n1", f"{T0 + 10} start n2", f"{T0 + 10.5} stop n1"]
    rep = run_check(events=events)
    assert len(rep.app_overlaps) == 1
    a, b = rep.app_overlaps[0]
    assert {a.node, b.node} == {"n1", "n2"}
    assert not rep.ok and rep.failures["app overlaps"] == 1


def test_app_never_stopped_overlaps_a_later_start_elsewhere():
    # n1 was never stopped (no stop line): it is up until the end, so n2's start overlaps
    rep = run_check(events=[f"{T0} start n1", f"{T0 + 30} start n2", f"{T0 + 40} stop n2"])
    assert len(rep.app_overlaps) == 1
    assert not rep.ok


def test_a_crash_line_ends_the_interval():
    events = [f"{T0} start n1", f"{T0 + 5} crash n1", f"{T0 + 7.2} start n2"]
    assert run_check(events=events).app_overlaps == []


def test_touching_intervals_and_same_node_restarts_are_not_overlaps():
    events = [f"{T0} start n1", f"{T0 + 5} stop n1", f"{T0 + 5} start n2",
              f"{T0 + 6} start n2", f"{T0 + 9} stop n2"]  # a second start while up
    rep = run_check(events=events)
    assert rep.app_overlaps == []


# ----------------------------------------------------------------------------- the task


def test_clean_task_history_passes():
    tasks = task_lines(*on_time_runs(T0, 29))
    rep = run_check(tasks=tasks)
    assert rep.ok, nc.render(rep)
    assert rep.slots_run == 29 and rep.unexplained == [] and rep.duplicates == {}


def test_task_on_two_nodes_at_once_is_flagged():
    runs = on_time_runs(T0, 29)
    # n1's run of slot 10 is still running (ends at +11.5) when n2 begins slot 12 at +11.2
    runs[5] = ("n1", T0 + 10, T0 + 10.03, T0 + 11.5, "r5")
    runs[6] = ("n2", T0 + 12, T0 + 11.2 + 0.0, T0 + 12.5, "r6")
    rep = run_check(tasks=task_lines(*runs))
    assert len(rep.task_overlaps) == 1
    assert rep.failures["task overlaps"] == 1 and not rep.ok


def test_task_without_end_line_ends_at_its_record():
    runs = on_time_runs(T0, 29)
    runs[5] = ("n1", T0 + 10, T0 + 10.03, None, "r5")  # SIGKILLed: no end line
    runs[6] = ("n2", T0 + 12, T0 + 12.03, T0 + 13, "r6")
    records = [record(T0 + 10, "interrupted", "n1", "r5", T0 + 10.03, T0 + 11.0)]
    rep = run_check(tasks=task_lines(*runs), records=records)
    assert rep.task_overlaps == [] and rep.tasks_unended == 0
    # with no record either, it is open to the end of the window: an overlap, and counted
    rep = run_check(tasks=task_lines(*runs))
    assert rep.tasks_unended == 1 and rep.task_overlaps


def test_same_slot_started_twice_is_a_duplicate():
    runs = on_time_runs(T0, 29)
    runs.append(("n2", T0 + 20, T0 + 22.5, T0 + 23.0, "dup"))  # slot +20 again, later
    rep = run_check(tasks=task_lines(*runs))
    assert rep.duplicates and rep.failures["duplicate slots"] == 1
    assert not rep.ok


def test_a_slot_recorded_ok_twice_is_a_duplicate_even_without_lines():
    tasks = task_lines(*on_time_runs(T0, 29))
    records = [record(T0 + 20, "ok", "n2", "other", T0 + 20.1, T0 + 21)]
    rep = run_check(tasks=tasks, records=records)
    assert rep.failures["duplicate slots"] == 1


# ----------------------------------------------------------------------------- misses


def test_a_slot_nobody_ran_nor_recorded_is_unexplained():
    tasks = task_lines(*on_time_runs(T0, 29, skip=(10,)))
    rep = run_check(tasks=tasks)
    assert rep.unexplained == [nc.slot_key(T0 + 20)]
    assert rep.failures["unexplained misses"] == 1 and not rep.ok


def test_several_consecutive_lost_slots_are_each_counted():
    tasks = task_lines(*on_time_runs(T0, 29, skip=(10, 11, 12)))
    rep = run_check(tasks=tasks)
    assert rep.unexplained == [nc.slot_key(T0 + 20), nc.slot_key(T0 + 22),
                               nc.slot_key(T0 + 24)]


@pytest.mark.parametrize("status", ["missed", "refused", "interrupted", "skipped"])
def test_slots_recorded_as_not_run_are_explained(status):
    tasks = task_lines(*on_time_runs(T0, 29, skip=(10, 11)))
    records = [record(T0 + 20, status), record(T0 + 22, status)]
    rep = run_check(tasks=tasks, records=records)
    assert rep.unexplained == [], nc.render(rep)
    assert rep.explained_by_status == {status: 2}
    assert rep.ok


def test_failover_gap_recorded_missed_by_the_next_holder():
    # n1 runs up to slot +18, dies; slots +20 and +22 came due with no holder; n2 takes the
    # lease at +23.1: records +20 missed and runs +22 late (misfire=once), then on time
    runs = on_time_runs(T0, 10)
    runs.append(("n2", T0 + 22, T0 + 23.15, T0 + 24.1, "late"))
    runs += [("n2", T0 + 24 + 2 * k, T0 + 24.03 + 2 * k, T0 + 25 + 2 * k, f"n2-{k}")
             for k in range(17)]
    records = [record(T0 + 20, "missed", "n2", ended=T0 + 23.1)]
    rep = run_check(tasks=task_lines(*runs), records=records)
    assert rep.ok, nc.render(rep)
    # the same history without n2's missed record: +20 is unexplained
    rep = run_check(tasks=task_lines(*runs))
    assert rep.unexplained == [nc.slot_key(T0 + 20)]


def test_a_run_more_than_on_time_late_restarts_the_chain():
    # slot +20 ran 7 s late (at +27): the next slot is +29, not +22
    runs = on_time_runs(T0, 10)
    runs.append(("n2", T0 + 20, T0 + 27.0, T0 + 28.0, "late"))
    runs += [("n2", T0 + 29 + 2 * k, T0 + 29.03 + 2 * k, T0 + 30 + 2 * k, f"c{k}")
             for k in range(14)]
    rep = run_check(tasks=task_lines(*runs))
    assert rep.unexplained == [], nc.render(rep)


def test_the_tail_after_the_last_slot_is_checked_until_checked_until():
    tasks = task_lines(*on_time_runs(T0, 20))  # last slot +38; checked until +56
    rep = run_check(tasks=tasks)
    assert rep.unexplained[0] == nc.slot_key(T0 + 40)
    assert len(rep.unexplained) == 9  # +40 .. +56
    rep = run_check(tasks=tasks, m=meta(until=T0 + 39))
    assert rep.unexplained == []


def test_records_of_other_tasks_are_ignored():
    tasks = task_lines(*on_time_runs(T0, 29, skip=(10,)))
    other = dict(record(T0 + 20, "missed"), rid="task#1")
    assert run_check(tasks=tasks, records=[other]).unexplained == [nc.slot_key(T0 + 20)]


def test_torn_lines_are_ignored():
    lines = task_lines(*on_time_runs(T0, 29)) + ["1800000010.5 beg", "garbage", ""]
    assert run_check(tasks=lines).ok


# ----------------------------------------------------------------------------- faults


def test_faults_by_kind_and_kill_timings():
    events = [f"{T0} start n1", f"{T0 + 10.07} stop n1", f"{T0 + 12.3} start n2",
              f"{T0 + 30.1} stop n2", f"{T0 + 32.5} start n3"]
    faults = [
        {"kind": "kill_agent", "node": "n1", "at": T0 + 10, "active": True},
        {"kind": "kill_agent", "node": "n2", "at": T0 + 30, "active": True},
        {"kind": "kill_agent", "node": "n1", "at": T0 + 40, "active": False},  # not counted
        {"kind": "partition", "node": "n3", "at": T0 + 45},
    ]
    rep = run_check(events=events, faults=faults)
    assert rep.faults == {"kill_agent": 3, "partition": 1}
    assert rep.kill_stop == pytest.approx([0.07, 0.1])
    assert rep.kill_up == pytest.approx([2.3, 2.5])
    assert rep.kill_no_stop == 0 and rep.kill_no_up == 0
    text = nc.render(rep, faults)
    assert "kill_agent 3" in text and "RESULT: OK" in text


def test_a_killed_agent_whose_app_never_stops_is_counted():
    faults = [{"kind": "kill_agent", "node": "n1", "at": T0 + 10, "active": True}]
    rep = run_check(events=[f"{T0} start n1"], faults=faults)
    assert rep.kill_stop == [] and rep.kill_no_stop == 1 and rep.kill_no_up == 1


def test_percentile_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert nc.percentile(values, 50) == 10.0
    assert nc.percentile(values, 95) == 19.0
    assert nc.percentile([3.0], 95) == 3.0
    assert nc.percentile([], 50) is None


def test_main_reads_a_directory_and_exits_1_on_a_failure(tmp_path: Path, capsys):
    (tmp_path / "events").write_text(f"{T0} start n1\n{T0 + 10} start n2\n")
    (tmp_path / "tasks").write_text("\n".join(task_lines(*on_time_runs(T0, 29))) + "\n")
    (tmp_path / "records.json").write_text("[]")
    (tmp_path / "faults.jsonl").write_text(
        json.dumps({"kind": "zk_leader", "node": "member2", "at": T0 + 5}) + "\n")
    (tmp_path / "meta.json").write_text(json.dumps(meta()))
    assert nc.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "app overlaps across nodes: 1" in out and "FAIL" in out
    (tmp_path / "events").write_text(f"{T0} start n1\n{T0 + 10} stop n1\n{T0 + 11} start n2\n")
    assert nc.main([str(tmp_path)]) == 0


def test_a_start_caused_by_the_next_fault_is_not_counted_for_this_one():
    # a short pause (no failover), then a crash 5 s later: n2's start is the crash's doing
    events = [f"{T0} start n1", f"{T0 + 11.3} stop n1", f"{T0 + 11.4} start n1",
              f"{T0 + 15.05} crash n1", f"{T0 + 17} start n2"]
    faults = [{"kind": "pause_agent", "node": "n1", "at": T0 + 10, "active": True},
              {"kind": "crash_node", "node": "n1", "at": T0 + 15, "active": True}]
    rep = run_check(events=events, faults=faults)
    pause = rep.by_kind["pause_agent"]
    assert pause["stopped_p50"] == pytest.approx(1.3)
    assert pause["up_elsewhere_p50"] is None and pause["not_up_elsewhere"] == 1
    assert rep.by_kind["crash_node"]["up_elsewhere_p50"] == pytest.approx(2.0)


def test_a_run_that_outlived_its_crash_line_ends_at_its_own_end():
    runs = on_time_runs(T0, 6)  # r5: slot +10, ends at +11.03
    runs.append(("n2", T0 + 12, T0 + 10.9, T0 + 11.9, "x"))  # begins before r5 ended
    lines = task_lines(*runs)
    lines.append(f"{T0 + 10.4} end n1 {iso(T0 + 10)} r5 crash")  # the nemesis's line
    rep = run_check(tasks=lines)
    assert [(a.run_id, b.run_id) for a, b in rep.task_overlaps] == [("r5", "x")]


def test_nearest_fault_may_follow_the_slot():
    faults = [{"kind": "partition", "node": "n2", "at": T0}, {"kind": "crash_node",
                                                              "node": "n1", "at": T0 + 10.2}]
    assert nc.nearest_fault(faults, T0 + 10) == "0.20s before crash_node of n1"
    assert nc.nearest_fault(faults, T0 + 1) == "1.00s after partition of n2"
    assert nc.nearest_fault([], T0) == "no fault injected"
