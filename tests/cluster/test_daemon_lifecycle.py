"""Real daemons: cluster-wide stop/start, and config changes that move the service."""

from __future__ import annotations

import time

from daemons import overlaps, wait_until


def test_stop_and_start_through_the_cluster(make_cluster):
    c = make_cluster()
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config())
    c.wait_up_only_on("n1")
    c.svc("n3", "svc1", "stop", check=True)
    assert c.up_nodes() == set()
    time.sleep(1.5)
    assert c.up_nodes() == set(), "restarted after a stop request"
    assert c.svc_status("svc1", "n2")["active_node"] is None
    c.svc("n3", "svc1", "start", check=True)  # start: here, on n3
    assert c.up_nodes() == {"n3"}
    res = c.svc("n1", "svc1", "start")  # already active elsewhere: says where
    assert res.returncode == 1 and "n3" in res.stderr
    assert c.up_nodes() == {"n3"}
    assert not overlaps(c.up_intervals())


def test_config_update_removing_the_active_node_moves_the_service(make_cluster):
    c = make_cluster()
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config())
    c.wait_up_only_on("n1")
    c.create("svc1", c.ha_config(nodes=["n2", "n3"]))
    c.wait_up_only_on("n2", timeout=10)
    wait_until(lambda: c.active_node("svc1") == "n2", what="n2 active")
    assert not c.nodes["n1"].conf_path("svc1").exists()
    assert not overlaps(c.up_intervals()), c.up_intervals()


def test_orchestrate_start_places_but_does_not_fail_over(make_cluster):
    c = make_cluster()
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config(orchestrate="start"))
    c.wait_up_only_on("n1")
    c.crash("n1")
    (c.markers / "n1.up").unlink()
    wait_until(lambda: "n1" not in c.up_members("n2"), 10, what="n1 gone")
    time.sleep(2)
    assert c.up_nodes() == set()
    assert "orchestrate = start does not fail over" in c.log("n2")
    # a switch (or takeover) still works by hand
    c.svc("n3", "svc1", "takeover", check=True)
    assert c.up_nodes() == {"n3"}


def test_failover_skips_dead_nodes_and_switch_to_a_dead_node_is_refused(make_cluster):
    c = make_cluster()
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config())
    c.wait_up_only_on("n1")
    c.kill("n2")
    wait_until(lambda: "n2" not in c.up_members("n3"), 10, what="n2 gone")
    res = c.svc("n3", "svc1", "switch", "--to", "n2")
    assert res.returncode == 1 and "n2" in res.stderr and "down" in res.stderr
    assert c.up_nodes() == {"n1"}
    c.crash("n1")
    (c.markers / "n1.up").unlink()
    c.wait_up_only_on("n3", timeout=10)


def test_start_failing_everywhere_says_so_and_stops_trying(make_cluster):
    c = make_cluster()
    c.start()
    c.wait_joined()
    tries = c.base / "tries"
    c.create("svc1", c.ha_config(start_extra=f"echo {{nodename}} >> {tries} && false && "))
    wait_until(lambda: len(c.svc_status("svc1")["target"]["failed"]) == 3, 15,
               what="three failed starts")
    assert sorted(tries.read_text().split()) == ["n1", "n2", "n3"]
    time.sleep(2)
    assert c.up_nodes() == set()
    assert sorted(tries.read_text().split()) == ["n1", "n2", "n3"], "still retrying"
    st = c.svc_status("svc1")
    assert st["active_node"] is None and st["avail"] == "down"
    assert any("no healthy node can take it" in c.log(n) for n in c.names)
    # thaw clears the failures: it tries again (and fails again, the same way)
    c.svc("n1", "svc1", "thaw", check=True)
    wait_until(lambda: len(tries.read_text().split()) == 6, 15, what="three more tries")
    wait_until(lambda: len(c.svc_status("svc1")["target"]["failed"]) == 3, 15,
               what="three failed starts again")


def test_a_node_removed_from_nodes_stops_running_the_services_node_scoped_jobs(make_cluster):
    from sched_support import read_runs, recording_task

    c = make_cluster(names=("n1", "n2"))
    everywhere = c.base / "everywhere"
    task = recording_task(everywhere, "task#0", "* * * * * *",
                          extra="run_requires = app#0(up,down)\n")  # every node runs it
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config(extra=task))
    wait_until(lambda: {r.node for r in read_runs(everywhere)} == {"n1", "n2"}, 15,
               what="the node-scoped task on both nodes")
    c.create("svc1", c.ha_config(nodes=["n2"], extra=task))  # n1 leaves the service
    c.wait_up_only_on("n2", timeout=10)
    time.sleep(1.5)
    t0 = time.time()
    time.sleep(3)
    late = [r for r in read_runs(everywhere) if r.node == "n1" and r.ts > t0]
    assert late == [], f"n1 still runs a job of a service it left: {late}"
    assert [r for r in read_runs(everywhere) if r.node == "n2" and r.ts > t0]
