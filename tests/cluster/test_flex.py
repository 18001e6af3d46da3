"""Flex services (issue 12) with real daemons and ZooKeeper: ``flex_target`` instances over
three nodes, each in an instance slot of its own; a dead node's instance and a monitored
failure's are replaced by the third node; tasks run on every started instance (claimed per
node), or once per slot cluster-wide with ``run_scope = cluster``.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from daemons import Cluster, wait_until
from monitor_support import alive, app_pid, app_section, break_node, kill_app
from sched_support import read_runs, recording_task


@pytest.fixture
def cluster(app_cluster):
    return app_cluster


def flex_config(c: Cluster, extra: str = "", target: int = 2) -> str:
    return c.ha_config().replace(
        "orchestrate = ha\n",
        f"orchestrate = ha\ntopology = flex\nflex_min_nodes = 2\nflex_target = {target}\n",
    ) + extra


def per_node_slots(runs) -> Counter:
    return Counter((r.node, r.slot) for r in runs)


def test_flex_keeps_flex_target_instances_and_tasks_follow_each(cluster):
    c = cluster()
    every, once = c.base / "every", c.base / "once"
    # it runs 1 s with max_parallel 1 (the default): counted per node, both instances run
    # each slot side by side
    tasks = (recording_task(every, "task#every", "@2s", sleep=1.0)
             + recording_task(once, "task#once", "@2s", extra="run_scope = cluster\n"))
    c.start()
    c.wait_joined()
    c.create("svc1", flex_config(c, tasks))
    wait_until(lambda: c.up_nodes() == {"n1", "n2"}, 20,
               what=f"svc1 up on n1 and n2 (up: {sorted(c.up_nodes())})")
    st = wait_until(lambda: (s := c.svc_status("svc1", "n3"))["avail"] == "up" and s, 10,
                    what="svc1 avail up")
    assert st["topology"] == "flex" and st["active_nodes"] == ["n1", "n2"]
    assert st["flex"] == {"min": 2, "max": 3, "target": 2}
    assert c.status("n3")["services"]["svc1"]["active_nodes"] == ["n1", "n2"]
    # a switch means nothing for a flex service: refused, nothing moves
    refused = c.svc("n1", "svc1", "switch", "--to", "n3")
    assert refused.returncode == 2 and "flex" in refused.stderr

    wait_until(lambda: {r.node for r in read_runs(every)} == {"n1", "n2"}, 15,
               what="task#every run on both instances")
    wait_until(lambda: len(read_runs(once)) >= 3, 15, what="task#once run")
    assert {r.node for r in read_runs(every)} <= {"n1", "n2"}
    by_slot: dict[str, set[str]] = {}
    for r in read_runs(every):
        by_slot.setdefault(r.slot, set()).add(r.node)
    assert {"n1", "n2"} in by_slot.values(), by_slot

    # n1's agent dies: its keeper stops the instance, its slot's lease goes with the
    # session, and n3 takes the free slot
    t0 = time.monotonic()
    c.kill("n1")
    wait_until(lambda: c.up_nodes() == {"n2", "n3"}, 20,
               what=f"svc1 up on n2 and n3 (up: {sorted(c.up_nodes())})")
    print(f"n1 killed -> replaced on n3 in {time.monotonic() - t0:.2f}s")
    wait_until(lambda: c.svc_status("svc1", "n2")["avail"] == "up", 10, what="avail up")
    assert sorted(c.svc_status("svc1", "n2")["active_nodes"]) == ["n2", "n3"]
    assert "placing an instance here" in c.log("n3")
    wait_until(lambda: "n3" in {r.node for r in read_runs(every)}, 15,
               what="task#every run on n3")
    wait_until(lambda: "n3" in {r.node for r in read_runs(once)}
               or len({r.slot for r in read_runs(once)}) >= 8, 20, what="task#once goes on")

    # every instance ran each slot once for itself; the cluster-wide task ran each slot once
    assert max(per_node_slots(read_runs(every)).values()) == 1, read_runs(every)
    assert max(Counter(r.slot for r in read_runs(once)).values()) == 1, read_runs(once)

    # stop: every instance; start: flex_target of them again
    c.svc("n2", "svc1", "stop", check=True)
    assert c.up_nodes() == set()
    c.svc("n2", "svc1", "start", check=True)
    assert len(c.up_nodes()) == 2 and c.up_nodes() <= {"n2", "n3"}


def test_a_flex_instance_whose_monitored_app_fails_is_replaced(cluster):
    c = cluster()
    text = (f"[DEFAULT]\nnodes = {' '.join(c.names)}\norchestrate = ha\ntopology = flex\n"
            "flex_target = 2\nmonitor_action = switch\nmonitor_schedule = @2s\n\n"
            + app_section(c, extra="monitor = true\nrestart = 1\nrestart_delay = 500ms\n"))
    c.start()
    c.wait_joined()
    c.create("svc1", text)
    wait_until(lambda: alive(app_pid(c, "n1")) and alive(app_pid(c, "n2")), 20,
               what="the app up on n1 and n2")
    break_node(c, "n1")  # its restart fails there
    kill_app(c, "n1")
    wait_until(lambda: alive(app_pid(c, "n3")), 30, what="the app up on n3")
    assert alive(app_pid(c, "n2")) and not alive(app_pid(c, "n1"))
    st = wait_until(lambda: (s := c.svc_status("svc1", "n2"))["target"]["failed"] and s, 10,
                    what="n1 marked failed")
    assert "app#0" in st["target"]["failed"]["n1"]
    assert sorted(st["active_nodes"]) == ["n2", "n3"]
