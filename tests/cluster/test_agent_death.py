"""The agent alone dies or hangs while its node, apps and tasks live on: the node's fence
keeper stops them before another node starts them, so the service is never up twice.

Each case samples the app's marker files every 20 ms for overlaps, reads the start/stop
events the app writes, and runs a long task to show it is killed on the old node before the
new node starts one. Then the agent comes back (restarted or continued) and brings nothing
back that the new node runs.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from daemons import Cluster, overlaps, wait_until
from sched_support import runs_json

STOP_BUDGET = 2.5  # fence delay (1.5 s with a 2 s session) + 1 s, from the fault
# a stuck loop is known as such once it has not beaten for heartbeat.STALE_AFTER (0.6 s)
STUCK_BUDGET = STOP_BUDGET + 0.6


def long_task(c: Cluster) -> str:
    """A task that runs 30 s and writes begin/end lines (end also when it gets SIGTERM)."""
    script = c.base / "task.sh"
    tasks = c.base / "tasks"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$(date +%s.%N) begin $1 $ORCHESTRATOR_RUN_ID" >> {tasks}\n'
        f"trap 'echo \"$(date +%s.%N) end $1 $ORCHESTRATOR_RUN_ID\" >> {tasks}; exit 143' TERM\n"
        "sleep 30 &\nwait\n")
    return f"[task#0]\ncommand = sh {script} {{nodename}}\nschedule = @2s\n"


def task_lines(c: Cluster) -> list[tuple[float, str, str]]:
    path = c.base / "tasks"
    if not path.exists():
        return []
    return [(float(ts), what, node) for ts, what, node, *_ in
            (line.split() for line in path.read_text().splitlines())]


class Sampler:
    """Reads which nodes have the app up every ``every`` seconds, in a thread."""

    def __init__(self, c: Cluster, every: float = 0.02):
        self.c, self.every = c, every
        self.seen_twice: list[tuple[float, set[str]]] = []
        self.samples = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            up = self.c.up_nodes()
            self.samples += 1
            if len(up) > 1:
                self.seen_twice.append((time.time(), up))
            time.sleep(self.every)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def start_two_nodes(make_cluster) -> Cluster:
    c = make_cluster(names=("n1", "n2"))
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config(extra=long_task(c)))
    c.wait_up_only_on("n1")
    wait_until(lambda: any(w == "begin" and n == "n1" for _, w, n in task_lines(c)), 15,
               what="the long task running on n1")
    return c


def first(lines, what: str, node: str, after: float = 0.0) -> float | None:
    return next((ts for ts, w, n in sorted(lines) if (w, n) == (what, node) and ts > after),
                None)


def assert_fenced_then_failed_over(c: Cluster, t0: float, sampler: Sampler,
                                   budget: float = STOP_BUDGET) -> None:
    wait_until(lambda: c.up_nodes() == {"n2"}, 15, interval=0.02, what="svc1 up on n2 only")
    stop_n1 = first(c.event_lines(), "stop", "n1", t0)
    assert stop_n1 is not None, "n1's app was never stopped"
    start_n2 = first(c.event_lines(), "start", "n2", t0)
    print(f"app stopped on n1 {stop_n1 - t0:.2f}s after the fault, up on n2 "
          f"{start_n2 - t0:.2f}s after")
    assert stop_n1 - t0 <= budget, f"n1 stopped its app {stop_n1 - t0:.2f}s after the fault"
    assert not overlaps(c.up_intervals()), c.up_intervals()
    # the task: killed on n1 before n2 starts one
    wait_until(lambda: first(task_lines(c), "begin", "n2", t0), 15, what="the task on n2")
    end_n1 = first(task_lines(c), "end", "n1", t0)
    begin_n2 = first(task_lines(c), "begin", "n2", t0)
    assert end_n1 is not None and end_n1 < begin_n2, task_lines(c)
    assert "fencing agent" in c.log("n1")
    assert not sampler.seen_twice, sampler.seen_twice
    assert sampler.samples > 50


def assert_stays_on_n2(c: Cluster, sampler: Sampler) -> None:
    wait_until(lambda: "n1" in c.up_members("n2"), 20, what="n1 back in the cluster")
    time.sleep(3)
    assert c.up_nodes() == {"n2"}
    assert c.active_node("svc1", "n1") == "n2"
    assert not overlaps(c.up_intervals()), c.up_intervals()
    assert not sampler.seen_twice, sampler.seen_twice
    # n1's interrupted run reaches the cluster's records, with why
    wait_until(lambda: [r for r in runs_json(c, "n2", "svc1", "task#0")
                        if r["node"] == "n1" and r["status"] == "interrupted"], 15,
               what="n1's interrupted run in the cluster's records")
    records = [r for r in runs_json(c, "n2", "svc1", "task#0")
               if r["node"] == "n1" and r["status"] == "interrupted"]
    assert any("fenced" in (r.get("reason") or "") for r in records), records


def test_sigkill_of_the_agent_alone_is_fenced_then_restarted(make_cluster):
    c = start_two_nodes(make_cluster)
    keeper = c.keeper_pid("n1")
    assert keeper is not None
    with Sampler(c) as sampler:
        t0 = time.time()
        c.kill("n1")
        assert_fenced_then_failed_over(c, t0, sampler)
        assert c.keeper_pid("n1") == keeper  # it outlived the agent
        c.start("n1")  # the restarted agent finds the same keeper and what it did
        wait_until(lambda: "the fence keeper fenced agent" in c.log("n1"), 15,
                   what="the restarted agent told of the fence")
        assert c.keeper_pid("n1") == keeper
        assert_stays_on_n2(c, sampler)
    records = [r for r in runs_json(c, "n2", "svc1", "task#0")
               if r["node"] == "n1" and r["status"] == "interrupted"]
    assert any("agent unresponsive: fenced" in r["reason"] for r in records), records


def test_sigstop_longer_than_the_session_then_sigcont(make_cluster):
    c = start_two_nodes(make_cluster)
    with Sampler(c) as sampler:
        t0 = time.time()
        c.pause("n1")
        assert_fenced_then_failed_over(c, t0, sampler)
        time.sleep(max(0.0, t0 + 4 - time.time()))  # well past the 2 s session
        c.resume("n1")  # the continued agent learns it was fenced, brings nothing back
        wait_until(lambda: "the fence keeper fenced agent" in c.log("n1"), 15,
                   what="the continued agent told of the fence")
        assert c.nodes["n1"].alive, "a stopped agent is left to be continued, not killed"
        assert_stays_on_n2(c, sampler)


def test_stuck_decision_loop_is_fenced_and_the_agent_killed(make_cluster):
    c = start_two_nodes(make_cluster)
    node = c.nodes["n1"]
    with Sampler(c) as sampler:
        t0 = time.time()
        node.block_file.touch()
        assert_fenced_then_failed_over(c, t0, sampler, STUCK_BUDGET)
        # its kazoo thread kept the session alive: the keeper killed it so the lease went
        wait_until(lambda: not node.alive, 10, what="the stuck agent killed")
        assert "its loop is stuck: SIGKILL" in c.log("n1")
        node.block_file.unlink()
        c.start("n1")
        assert_stays_on_n2(c, sampler)


def test_graceful_stop_hands_over_without_fencing(make_cluster):
    c = start_two_nodes(make_cluster)
    keeper = c.keeper_pid("n1")
    with Sampler(c) as sampler:
        assert c.stop("n1") == 0
        c.wait_up_only_on("n2")
        assert not sampler.seen_twice
    assert "fencing agent" not in c.log("n1")
    assert "fence keeper" in c.log("n1") and keeper is not None
    wait_until(lambda: c.keeper_pid("n1") is None, 10, what="the keeper gone after a bye")
    # the interrupted task was recorded by the agent itself, not by a fence
    records = [r for r in runs_json(c, "n2", "svc1", "task#0") if r["node"] == "n1"]
    assert records and all("fenced" not in (r.get("reason") or "") for r in records), records


@pytest.fixture(autouse=True)
def _no_block_left(tmp_path: Path):
    yield
    for path in tmp_path.glob("cluster*/n*/block-loop"):
        path.unlink()
