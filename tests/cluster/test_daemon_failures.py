"""Real daemons against ZooKeeper failures: a 3-member ensemble losing its leader, and one
node cut off from ZooKeeper by a black-hole proxy (a partition)."""

from __future__ import annotations

import time
import uuid

from daemons import overlaps, wait_until

from orchestrator.devtools.tcpproxy import TcpProxy


def test_ensemble_leader_loss_causes_no_relocation(make_cluster, zk_ensemble):
    chroot = f"/tests/leader-loss-{uuid.uuid4().hex[:8]}"
    c = make_cluster(zk=zk_ensemble.hosts + chroot)
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config())
    c.wait_up_only_on("n1")
    epoch = wait_until(lambda: c.svc_status("svc1")["epoch"], what="an epoch")
    events_before = c.event_lines()

    leader = zk_ensemble.leader()
    leader.kill()
    t0 = time.monotonic()
    # watch for a while: nobody stops or starts anything
    while time.monotonic() - t0 < 6:
        assert c.up_nodes() == {"n1"}, f"relocated: up on {sorted(c.up_nodes())}"
        time.sleep(0.05)
    assert c.event_lines() == events_before, "the app was stopped or started"
    wait_until(lambda: c.up_members() == {"n1", "n2", "n3"}, 15,
               what="all nodes registered after the election")
    data = c.svc_status("svc1", "n2")
    assert data["active_node"] == "n1"
    assert data["epoch"] == epoch, "the lease changed hands"
    assert "fencing: stopping" not in c.log("n1")

    # and the cluster still works on the two survivors: a switch goes through
    c.svc("n3", "svc1", "switch", "--to", "n2", check=True)
    assert c.up_nodes() == {"n2"}


def test_partitioned_node_stops_before_another_starts(make_cluster, zk_chroot):
    hosts, chroot = zk_chroot.split("/", 1)
    host, port = hosts.split(",")[0].rsplit(":", 1)
    with TcpProxy((host, int(port))) as proxy:
        c = make_cluster(zk_for={"n1": f"{proxy.hosts}/{chroot}"})
        c.start()
        c.wait_joined()
        c.create("svc1", c.ha_config())
        c.wait_up_only_on("n1")
        t0 = time.time()
        proxy.blackhole()
        # n1 fences itself (stops svc1), then n2 takes it once n1's session expired
        wait_until(lambda: "n2" in c.up_nodes(), 15, interval=0.02, what="svc1 up on n2")
        took = time.time() - t0
        assert c.up_nodes() == {"n2"}
        intervals = c.up_intervals()
        assert not overlaps(intervals), intervals
        stop_n1 = next(ts for ts, what, node in c.event_lines() if (what, node) == ("stop", "n1"))
        start_n2 = next(ts for ts, what, node in c.event_lines()
                        if (what, node) == ("start", "n2"))
        print(f"n1 stopped {stop_n1 - t0:.2f}s after the cut, n2 started "
              f"{start_n2 - t0:.2f}s after ({start_n2 - stop_n1:.2f}s gap); up on n2 after "
              f"{took:.2f}s")
        assert stop_n1 < start_n2
        assert "fencing: stopping svc1" in c.log("n1")

        # the partition heals: n1 comes back (new session), the service stays on n2
        proxy.heal()
        wait_until(lambda: "n1" in c.up_members("n2"), 15, what="n1 back in the cluster")
        time.sleep(2)
        assert c.up_nodes() == {"n2"}
        assert c.active_node("svc1", "n1") == "n2"
        assert not overlaps(c.up_intervals()), c.up_intervals()
