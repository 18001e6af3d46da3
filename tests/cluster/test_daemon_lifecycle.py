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
