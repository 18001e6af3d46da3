"""Real daemons, real ZooKeeper: placement, switch, takeover, SIGKILL failover, status views."""

from __future__ import annotations

import time

from daemons import overlaps, wait_until


def test_placement_switch_takeover_and_status(make_cluster):
    c = make_cluster()
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config())
    c.wait_up_only_on("n1")  # the first healthy node in nodes order
    wait_until(lambda: c.active_node("svc1") == "n1", what="n1 active")

    # the whole cluster from any node, interface.md keys
    for name in c.names:
        st = c.status(name)
        assert set(st["nodes"]) == {"n1", "n2", "n3"}
        assert all(n["state"] == "up" for n in st["nodes"].values())
        svc = st["services"]["svc1"]
        assert svc["active_node"] == "n1" and svc["avail"] == "up" and svc["frozen"] is False
        assert set(svc["instances"]) == {"n1", "n2", "n3"}
        data = c.svc_status("svc1", name)
        for key in ("service", "avail", "overall", "frozen", "active_node", "resources",
                    "instances"):
            assert key in data, key
        assert data["active_node"] == "n1"
        assert data["resources"]["app#0"]["status"] == "up"
        assert data["instances"]["n1"]["avail"] == "up"

    # switch: returns when up there; only then, and the old node stopped first
    t0 = time.monotonic()
    c.svc("n1", "svc1", "switch", "--to", "n3", check=True)
    took = time.monotonic() - t0
    assert c.up_nodes() == {"n3"}
    assert c.active_node("svc1", "n2") == "n3"
    assert took < 5, f"switch took {took:.1f}s"

    # takeover: to the node the command runs on
    c.svc("n2", "svc1", "takeover", check=True)
    assert c.up_nodes() == {"n2"}
    assert c.active_node("svc1", "n1") == "n2"

    # giveback: back to the placement leader
    c.svc("n3", "svc1", "giveback", check=True)
    assert c.up_nodes() == {"n1"}
    assert not overlaps(c.up_intervals()), c.up_intervals()

    # a switch to a node that is not one of the service's is refused, nothing moves
    bad = c.svc("n1", "svc1", "switch", "--to", "n9")
    assert bad.returncode == 2 and "n9" in bad.stderr
    assert c.up_nodes() == {"n1"}


def test_sigkill_of_active_daemon_moves_service_to_next_node(make_cluster):
    c = make_cluster()
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config())
    c.wait_up_only_on("n1")
    t0 = time.monotonic()
    c.crash("n1")
    # agent and fence keeper both gone, the app's marker left behind (a node that froze
    # and came back): n2 starts its own instance
    wait_until(lambda: "n2" in c.up_nodes(), 10, what="svc1 up on n2")
    took = time.monotonic() - t0
    assert took < 5, f"failover took {took:.1f}s"
    assert "n3" not in c.up_nodes()
    wait_until(lambda: c.active_node("svc1", "n3") == "n2", what="n2 active")
    st = c.status("n3")
    assert st["nodes"]["n1"] == {"state": "down"}  # still listed, as down
    assert st["services"]["svc1"]["instances"]["n1"]["avail"] in ("undef", "n/a")
    assert "placing here" in c.log("n2")

    # n1 comes back: it finds its local instance up while n2 holds the lease, stops it
    c.start("n1")
    wait_until(lambda: c.up_nodes() == {"n2"}, 15, what="n1 to stop its stale instance")
    time.sleep(1.5)
    assert c.up_nodes() == {"n2"}
    assert c.active_node("svc1", "n1") == "n2"


def test_failed_start_moves_on_to_next_candidate_and_says_so(make_cluster):
    c = make_cluster()
    c.start()
    c.wait_joined()
    # the start fails on n1 (before it records anything): n2 must take it
    c.create("svc1", c.ha_config(start_extra="test {nodename} != n1 && "))
    c.wait_up_only_on("n2")
    wait_until(lambda: c.active_node("svc1") == "n2", what="n2 active")
    data = c.svc_status("svc1", "n3")
    assert "n1" in data["target"]["failed"]
    assert data["overall"] == "warn"
    assert "start failed" in c.log("n1")
    assert "n1 failed to start it" in c.log("n2")
    # a switch to the node that failed is refused with the reason... after a thaw/switch
    # request clears failures, it is tried again and fails again: exit 1, says why
    res = c.svc("n3", "svc1", "switch", "--to", "n1", "--wait", "20")
    assert res.returncode == 1
    assert "n1" in res.stderr and "failed" in res.stderr
    wait_until(lambda: c.up_nodes() == {"n2"}, 15, what="service back on n2")


def test_sigterm_of_active_daemon_stops_then_hands_over_at_once(make_cluster):
    c = make_cluster()
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config())
    c.wait_up_only_on("n1")
    t0 = time.monotonic()
    assert c.stop("n1") == 0
    c.wait_up_only_on("n2", timeout=10)
    took = time.monotonic() - t0
    # the agent stopped svc1 and closed its session: no wait for a session timeout
    assert took < 2.0, f"hand-over after SIGTERM took {took:.1f}s"
    assert not overlaps(c.up_intervals()), c.up_intervals()
    assert "agent stopped" in c.log("n1")
    assert c.event_lines()[-2][1:] == ("stop", "n1")  # stopped by its agent, then n2 started
