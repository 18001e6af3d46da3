"""The daemon's scheduler with real daemons on a real ZooKeeper: tasks follow the service,
each slot runs once (switch, SIGKILL, partition), anacron is not repeated after a
relocation, a task running during a switch is interrupted before the resources stop, and
every node tells the same story (print runs / print schedule)."""

from __future__ import annotations

import time
from datetime import datetime

from daemons import wait_until
from sched_support import (
    duplicates,
    gaps,
    nodes_of,
    read_runs,
    recording_task,
    runs_json,
    schedule_json,
)

from orchestrator.devtools.tcpproxy import TcpProxy


def _ts(text: str | None) -> float:
    assert text is not None
    return datetime.fromisoformat(text).timestamp()


def _missed_slots(records: list[dict], rid: str) -> set[float]:
    """Slots recorded as not run, with the reason: missed (nobody could run them) or
    refused (max_parallel: e.g. a late first run still running when the next slot came)."""
    return {_ts(r["scheduled_at"]) for r in records
            if r["rid"] == rid and r["status"] in ("missed", "refused") and r["reason"]}


def test_tasks_follow_switch_and_sigkill_exactly_once(make_cluster):
    c = make_cluster()
    every = c.base / "every"  # task#0: every second
    daily = c.base / "daily"  # task#1: anacron 1d
    long = c.base / "long"  # task#2: a long run, due at once (never ran), hourly after
    extra = (recording_task(every, "task#0", "@1s")
             + recording_task(daily, "task#1", "anacron 1d")
             + recording_task(long, "task#2", "@1h", sleep=60))
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config(extra=extra))
    c.wait_up_only_on("n1")
    wait_until(lambda: len(read_runs(every)) >= 4 and read_runs(long), 15, what="runs on n1")
    assert nodes_of(read_runs(every)) == {"n1"}
    assert [r.node for r in read_runs(daily)] == ["n1"]

    # switch: the long task is interrupted (and recorded so) before app#0 stops on n1
    c.svc("n3", "svc1", "switch", "--to", "n2", check=True)
    wait_until(lambda: "n2" in nodes_of(read_runs(every)), 5, what="a run on n2")
    stop_n1 = next(ts for ts, what, node in c.event_lines() if (what, node) == ("stop", "n1"))
    records = runs_json(c, "n2", "svc1", "task#2")
    assert [r["status"] for r in records] == ["interrupted"], records
    assert records[0]["node"] == "n1"
    assert _ts(records[0]["ended_at"]) <= stop_n1, (records[0], stop_n1)
    time.sleep(3)

    # SIGKILL of the active node: the next runs happen on the new node (n1 or n3)
    c.crash("n2")
    (c.markers / "n2.up").unlink()  # its app dies with it
    t_kill = time.time()
    wait_until(lambda: any(r.ts > t_kill and r.node != "n2" for r in read_runs(every)), 10,
               what="a run on another node after the kill")
    new = next(r.node for r in read_runs(every) if r.ts > t_kill)
    time.sleep(3)

    runs = read_runs(every)
    assert not duplicates(runs), duplicates(runs)
    assert all(r.node == "n1" for r in runs if r.ts < stop_n1)
    assert all(r.node == new for r in runs if r.ts > t_kill)
    # the slots lost while nobody held the lease are recorded as missed (misfire=once):
    # every slot is either run once or recorded as not run, with why
    records = runs_json(c, new, "svc1")
    missed = _missed_slots(records, "task#0")
    ran = {r.slot_ts for r in runs}
    slots = sorted(ran | missed)
    holes = [(a, b) for a, b in zip(slots, slots[1:], strict=False) if b - a > 1.5]
    assert not holes, (holes, runs, missed)
    assert not (ran & missed)
    # anacron 1d: ran once on n1, not again on n2 nor on the third node the same day
    assert [r.node for r in read_runs(daily)] == ["n1"]
    # the long hourly task: not started again by the new nodes within the hour
    assert [r.node for r in read_runs(long)] == ["n1"]

    # every live node tells the same story
    live = [n for n in c.names if c.nodes[n].alive]
    views = [runs_json(c, n, "svc1") for n in live]
    keyed = [{r["run_id"]: (r["status"], r["node"]) for r in v if r["status"] != "running"}
             for v in views]
    common = set.intersection(*(set(k) for k in keyed))
    assert len(common) >= len(runs) - 2
    assert all(k[i] == keyed[0][i] for k in keyed for i in common)
    origin_ok = {r["origin"] for r in views[0]}
    assert origin_ok == {"scheduler"}
    sched = [{e["rid"]: e for e in schedule_json(c, n, "svc1")} for n in live]
    for table in sched:
        assert table["task#1"]["last_run"] == sched[0]["task#1"]["last_run"] is not None
        assert table["task#1"]["runs_on"] == new
        assert table["task#0"]["runs_on"] == new
        # the anacron job's next run is a day after its run on n1
        assert _ts(table["task#1"]["next_run"]) - _ts(table["task#1"]["last_run"]) > 86000


def test_partitioned_node_runs_no_slot_twice_and_its_records_arrive(make_cluster, zk_chroot):
    hosts, chroot = zk_chroot.split("/", 1)
    host, port = hosts.split(",")[0].rsplit(":", 1)
    with TcpProxy((host, int(port))) as proxy:
        c = make_cluster(names=("n1", "n2"), zk_for={"n1": f"{proxy.hosts}/{chroot}"})
        every = c.base / "every"
        long = c.base / "long"
        extra = recording_task(every, "task#0", "@1s") + recording_task(long, "task#1", "@1h",
                                                                       sleep=60)
        c.start()
        c.wait_joined()
        c.create("svc1", c.ha_config(extra=extra))
        c.wait_up_only_on("n1")
        wait_until(lambda: len(read_runs(every)) >= 3 and read_runs(long), 15,
                   what="runs on n1")
        t_cut = time.time()
        proxy.blackhole()
        wait_until(lambda: any(r.node == "n2" for r in read_runs(every)), 15, interval=0.05,
                   what="runs on n2")
        time.sleep(2)
        proxy.heal()
        wait_until(lambda: "n1" in c.up_members("n2"), 15, what="n1 back")
        time.sleep(2)
        runs = read_runs(every)
        assert not duplicates(runs), duplicates(runs)
        last_n1 = max(r.ts for r in runs if r.node == "n1")
        first_n2 = min(r.ts for r in runs if r.node == "n2")
        assert last_n1 < first_n2, "n1 ran a slot after n2 began"
        assert all(r.node == "n2" for r in runs if r.ts > first_n2)
        # n1's interrupted long run (fenced while cut off) was recorded once it reconnected
        records = wait_until(lambda: [r for r in runs_json(c, "n2", "svc1", "task#1")
                                      if r["status"] == "interrupted"], 10,
                             what="the fenced run's record from n1")
        assert records[0]["node"] == "n1"
        assert _ts(records[0]["ended_at"]) > t_cut
        # slots nobody could run are recorded (missed, refused), none lost silently
        missed = _missed_slots(runs_json(c, "n1", "svc1"), "task#0")
        ran = {r.slot_ts for r in runs}
        slots = sorted(ran | missed)
        holes = [(a, b) for a, b in zip(slots, slots[1:], strict=False) if b - a > 1.5]
        assert not holes, (holes, gaps(runs, 1.0), missed)
