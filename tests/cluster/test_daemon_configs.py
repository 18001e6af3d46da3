"""Real daemons: service configs distributed to their nodes, deleted, caught up; bad configs
never reach ZooKeeper; freeze blocks failover."""

from __future__ import annotations

import time

from daemons import wait_until


def test_configs_distributed_deleted_and_caught_up(make_cluster):
    c = make_cluster()
    c.start()
    c.wait_joined()
    # only the service's nodes write a local copy, within a second
    c.create("svc1", c.ha_config(nodes=["n1", "n2"], orchestrate="no"), on="n3")
    t0 = time.monotonic()
    wait_until(lambda: all(c.nodes[n].conf_path("svc1").exists() for n in ("n1", "n2")), 1.0,
               interval=0.02, what="svc1.conf on n1 and n2 within 1 s")
    took = time.monotonic() - t0
    text = c.nodes["n1"].conf_path("svc1").read_text()
    assert text == c.nodes["n2"].conf_path("svc1").read_text()
    assert "orchestrate = no" in text
    assert not c.nodes["n3"].conf_path("svc1").exists()
    print(f"config distributed in {took:.3f}s after create returned")

    # an update reaches the local copies too
    c.create("svc1", c.ha_config(nodes=["n1", "n2", "n3"], orchestrate="no"))
    wait_until(lambda: all(c.nodes[n].conf_path("svc1").exists() for n in c.names)
               and "n1 n2 n3" in c.nodes["n1"].conf_path("svc1").read_text(), 1.0,
               interval=0.02, what="updated svc1.conf everywhere within 1 s")

    # delete removes every copy
    c.svc("n2", "svc1", "delete", check=True)
    wait_until(lambda: not any(c.nodes[n].conf_path("svc1").exists() for n in c.names), 1.0,
               interval=0.02, what="svc1.conf removed everywhere within 1 s")
    assert "svc1" not in c.status()["services"]
    res = c.svc("n1", "svc1", "print", "status")
    assert res.returncode == 2 and "svc1" in res.stderr

    # a node that was down catches up: a service created and one deleted meanwhile
    c.create("old", c.ha_config(orchestrate="no"))
    wait_until(lambda: c.nodes["n3"].conf_path("old").exists(), 2, what="old.conf on n3")
    assert c.stop("n3") == 0
    c.svc("n1", "old", "delete", check=True)
    c.create("new", c.ha_config(orchestrate="no"))
    time.sleep(0.5)
    assert c.nodes["n3"].conf_path("old").exists()
    assert not c.nodes["n3"].conf_path("new").exists()
    c.start("n3")
    wait_until(lambda: c.nodes["n3"].conf_path("new").exists()
               and not c.nodes["n3"].conf_path("old").exists(), 10,
               what="n3 to write new.conf and remove old.conf after its restart")
    assert c.nodes["n3"].conf_path("new").read_text() == c.nodes["n1"].conf_path("new").read_text()


def test_bad_config_never_reaches_zookeeper(make_cluster):
    c = make_cluster()
    c.start("n1")
    c.wait_joined("n1")
    bad = c.ha_config() + "\n[app#1]\nstart = /bin/true\nbogus_keyword = 1\n"
    res = c.create("svc1", bad, check=None)
    assert res.returncode == 2, res
    assert "bogus_keyword" in res.stderr
    assert "Traceback" not in res.stderr
    broken = c.ha_config().replace("orchestrate = ha", "orchestrate = sometimes")
    res = c.create("svc1", broken, check=None)
    assert res.returncode == 2 and "orchestrate" in res.stderr
    res = c.create("bad/name", c.ha_config(), check=None)
    assert res.returncode == 2
    time.sleep(0.3)
    assert c.status()["services"] == {}
    assert not c.nodes["n1"].conf_path("svc1").exists()
    # what ZooKeeper holds, read directly
    from orchestrator.coordination import Coordinator

    with Coordinator(c.zk, c.cluster, "s3cret", 2.0, "probe") as coord:
        assert coord.service_names() == []
    assert c.up_nodes() == set()


def test_freeze_blocks_failover(make_cluster):
    c = make_cluster()
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config())
    c.wait_up_only_on("n1")
    c.svc("n2", "svc1", "freeze", check=True)
    assert c.svc_status("svc1")["frozen"] is True
    assert c.status("n3")["services"]["svc1"]["frozen"] is True
    c.crash("n1")
    (c.markers / "n1.up").unlink()  # n1 is gone for good, its app with it
    # well past the session timeout: nobody takes it
    wait_until(lambda: "n1" not in c.up_members("n2"), 10, what="n1 gone")
    time.sleep(3)
    assert c.up_nodes() == set()
    st = c.svc_status("svc1", "n2")
    assert st["active_node"] is None and st["avail"] == "down"
    assert "frozen, no automatic placement" in c.log("n2")
    # thaw: placement resumes on the next node
    c.svc("n3", "svc1", "thaw", check=True)
    c.wait_up_only_on("n2", timeout=10)
