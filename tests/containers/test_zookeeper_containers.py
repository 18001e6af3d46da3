"""ZooKeeper in real containers, through testcontainers and podman's Docker API.

* The tests' order of choice (tests/zk_sources.py, which ``zk_hosts`` is): with an engine
  answering, a ZooKeeper container on a network of the tests' own; with none, a local
  server; ``ZOOKEEPER_HOSTS`` before both.
* A whole cluster-test module (tests/cluster/test_coordination.py) passes against a
  3-member ensemble of containers, and it did write there.
* The containerized ensemble loses its leader container (SIGKILL) and goes on: a session
  and its ephemeral node survive, a new leader is elected, the old one rejoins.
Whatever a test started is gone afterwards: containers, and their network.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
import time

import pytest
from container_support import REPO, podman
from podman_api import TEST_NETWORKS, network_exists
from zk_containers import LABEL, LOCAL_IMAGE, zookeeper_containers
from zk_sources import engine_answers, zookeeper_for_tests

from orchestrator.devtools.zookeeper import four_letter

pytestmark = [pytest.mark.containers, pytest.mark.timeout(900)]

MODULE = "tests/cluster/test_coordination.py"


def _labelled(tag_filter: str = LABEL) -> list[str]:
    out = podman("ps", "-a", "--filter", f"label={tag_filter}", "--format", "{{.Names}}")
    return out.stdout.split()


def _networks_of(name: str) -> list[str]:
    out = podman("container", "inspect", "--format",
                 "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", name)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def _zxid(hosts: str) -> int:
    """The highest transaction id the members report (how much was written)."""
    best = 0
    for member in hosts.split(","):
        host, port = member.rsplit(":", 1)
        match = re.search(r"^Zxid: (0x[0-9a-f]+)$", four_letter(host, int(port), "srvr", 2),
                          re.M)
        if match:
            best = max(best, int(match.group(1), 16))
    return best


def test_zk_hosts_takes_a_container_when_an_engine_answers(docker_api, tmp_path, monkeypatch):
    monkeypatch.delenv("ZOOKEEPER_HOSTS", raising=False)
    assert engine_answers()
    before = set(_labelled())
    with zookeeper_for_tests(tmp_path / "a") as source:
        assert source.kind == "testcontainers"
        (address, _, port) = source.hosts.partition(":")
        assert ipaddress.ip_address(address) in TEST_NETWORKS and port == "2181"
        [name] = set(_labelled()) - before
        assert podman("container", "inspect", "--format", "{{.ImageName}}",
                      name).stdout.strip() == LOCAL_IMAGE
        [network] = _networks_of(name)
        assert network != "podman" and network.startswith("zk-")

        from kazoo.client import KazooClient

        client = KazooClient(hosts=source.hosts, timeout=4)
        client.start(10)
        try:
            client.create("/containers-test", b"written into the container", makepath=True)
            assert client.get("/containers-test")[0] == b"written into the container"
        finally:
            client.stop()
            client.close()
    assert name not in _labelled(), "the ZooKeeper container outlived the fixture"
    assert not network_exists(network), f"network {network} outlived the fixture"

    # no engine answering: the local server (Debian's jars), never a skip
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    assert not engine_answers()
    with zookeeper_for_tests(tmp_path / "b") as source:
        assert source.kind == "local"
        assert source.hosts.startswith("127.0.0.1:")
    # ZOOKEEPER_HOSTS comes first, whatever answers
    monkeypatch.setenv("ZOOKEEPER_HOSTS", "zk.invalid:2181")
    monkeypatch.setenv("DOCKER_HOST", docker_api.docker_host)
    with zookeeper_for_tests(tmp_path / "c") as source:
        assert (source.kind, source.hosts) == ("ZOOKEEPER_HOSTS", "zk.invalid:2181")
    assert set(_labelled()) == before


def test_coordination_module_passes_on_a_containerized_ensemble(docker_api, tmp_path):
    with zookeeper_containers(size=3) as zk:
        assert sorted(zk.modes()) == ["follower", "follower", "leader"]
        for i in range(3):
            name = zk.container(i).name
            assert _networks_of(name) == [zk.network], "a member is off the tests' network"
        written_before = _zxid(zk.hosts)
        env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
        env["ZOOKEEPER_HOSTS"] = zk.hosts
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs",
             "--basetemp", str(tmp_path / "inner"), MODULE],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        counts = dict((kind, int(n)) for n, kind in re.findall(r"(\d+) (\w+)", summary))
        assert counts.get("passed", 0) >= 10 and set(counts) == {"passed"}, summary
        # the module's clients did write into this ensemble
        assert _zxid(zk.hosts) > written_before + 50, (written_before, _zxid(zk.hosts))
        network = zk.network
    assert not network_exists(network)


def test_containerized_ensemble_survives_its_leader_killed(docker_api):
    from kazoo.client import KazooClient
    from kazoo.protocol.states import KazooState

    with zookeeper_containers(size=3) as zk:
        leader = zk.leader()
        assert leader is not None, zk.modes()
        others = [i for i in range(3) if i != leader]
        # The client (plain kazoo) knows the followers only: kazoo's TCP connect to a member
        # whose address vanished with its container waits out the whole session timeout
        # (measured: ~10 s with a 10 s session), which would measure kazoo, not the
        # ensemble's recovery. The project's own session bounds each connect to its share
        # of the session timeout (coordination.client.connect_timeout).
        client = KazooClient(hosts=",".join(f"{zk.addresses[i]}:2181" for i in others),
                             timeout=10)
        states: list[KazooState] = []
        client.add_listener(states.append)
        client.start(10)
        try:
            client.create("/alive", b"", ephemeral=True)
            session = client.client_id
            t_kill = time.monotonic()
            zk.container(leader).kill()  # SIGKILL: the container dies, its address goes

            def write_ok() -> bool:
                try:
                    client.set("/alive", b"after")
                except Exception:  # noqa: BLE001 - suspended while the ensemble elects
                    return False
                return True

            deadline = time.monotonic() + 20
            while not write_ok():
                assert time.monotonic() < deadline, f"no write 20 s after the kill: {states}"
                time.sleep(0.1)
            recovered = time.monotonic() - t_kill
            deadline = time.monotonic() + 20
            while sorted(zk.mode(i) or "" for i in others) != ["follower", "leader"]:
                assert time.monotonic() < deadline, zk.modes()
                time.sleep(0.2)
            assert client.client_id == session, "the session did not survive the leader loss"
            assert client.exists("/alive") is not None
            assert KazooState.LOST not in states, states
            assert recovered < 8, recovered  # an election and a reconnect, inside the session

            zk.container(leader).start()  # the old leader comes back: a follower now
            zk.wait_serving([leader], timeout=60)
            assert zk.mode(leader) == "follower"
        finally:
            client.stop()
            client.close()
        names = [zk.container(i).name for i in range(3)]
        network = zk.network
    left = set(names) & set(_labelled())
    assert not left, f"containers left behind: {left}"
    assert not network_exists(network)


def test_the_ensemble_is_torn_down_when_a_member_cannot_start(docker_api, monkeypatch):
    """A start that fails half-way (an image that does not exist) leaves nothing behind."""
    monkeypatch.setenv("ZOOKEEPER_IMAGE", "localhost/no-such-image:never")
    networks_before = set(podman("network", "ls", "--format", "{{.Name}}").stdout.split())
    before = set(_labelled())
    with pytest.raises(Exception, match="no-such-image"), zookeeper_containers(size=3):
        pass
    assert set(_labelled()) == before
    networks_after = set(podman("network", "ls", "--format", "{{.Name}}").stdout.split())
    assert {n for n in networks_after - networks_before if n.startswith("zk-")} == set()

