"""The test harness itself: local ZooKeeper servers, the CLI, and the partitioning proxy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from orchestrator.devtools import zookeeper as zkdev
from orchestrator.devtools.tcpproxy import TcpProxy

REPO = Path(__file__).resolve().parents[2]


def test_fixture_server_answers_srvr(zk_hosts: str) -> None:
    host, port = zk_hosts.split(",")[0].split("/")[0].rsplit(":", 1)
    assert zkdev.server_mode(host, int(port)) in {"standalone", "leader", "follower"}


def test_missing_jar_gives_install_hint(tmp_path: Path) -> None:
    with pytest.raises(zkdev.ZooKeeperHarnessError, match="apt-get install zookeeper"):
        zkdev.classpath(tmp_path / "zookeeper.jar")


def test_classpath_has_manifest_deps_and_slf4j_simple() -> None:
    cp = zkdev.classpath().split(os.pathsep)
    assert cp[0] == str(zkdev.ZOOKEEPER_JAR)
    assert "/usr/share/java/zookeeper-jute.jar" in cp
    assert "/usr/share/java/slf4j-simple.jar" in cp


def test_busy_port_is_refused_before_starting(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        server = zkdev.ZooKeeperServer(tmp_path, port)
        with pytest.raises(zkdev.ZooKeeperHarnessError, match="already in use"):
            server.start()
        assert server.proc is None


def test_cli_start_prints_hosts_writes_pids_and_stop_kills(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "orchestrator.devtools.zookeeper"]
    out = subprocess.run(
        [*cmd, "start", "--dir", str(tmp_path)], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    hosts = out.stdout.strip()
    host, port = hosts.rsplit(":", 1)
    pids = [int(p) for p in (tmp_path / zkdev.PID_FILE).read_text().split()]
    try:
        assert zkdev.server_mode(host, int(port)) == "standalone"
        again = subprocess.run(
            [*cmd, "start", "--dir", str(tmp_path)], env=env, capture_output=True, text=True
        )
        assert again.returncode == 1 and "already running" in again.stderr
    finally:
        stop = subprocess.run(
            [*cmd, "stop", "--dir", str(tmp_path)], env=env, capture_output=True, timeout=60
        )
    assert stop.returncode == 0
    assert not any(zkdev._pid_alive(p) for p in pids)
    assert zkdev.server_mode(host, int(port)) is None


def test_ensemble_has_one_leader_and_elects_another_when_it_dies(zk_ensemble) -> None:
    leader = zk_ensemble.leader()
    assert len(zk_ensemble.followers()) == 2
    leader.kill()
    new = zk_ensemble.leader(timeout=15)
    assert new is not leader and new.mode() == "leader"


def _echo_server() -> tuple[socket.socket, threading.Thread]:
    srv = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return

            def echo(c: socket.socket = conn) -> None:
                with c:
                    while data := c.recv(4096):
                        c.sendall(data)

            threading.Thread(target=echo, daemon=True).start()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv, t


def test_proxy_forwards_blackholes_without_closing_and_heals() -> None:
    srv, _ = _echo_server()
    with (
        srv,
        TcpProxy(srv.getsockname()[:2]) as proxy,
        socket.create_connection(proxy.address, timeout=2) as c,
    ):
        c.sendall(b"ping")
        assert c.recv(10) == b"ping"
        proxy.blackhole()
        time.sleep(0.3)
        c.settimeout(0.7)
        c.sendall(b"lost?")
        with pytest.raises(TimeoutError):
            c.recv(10)  # silence, not a reset: the socket stays open
        proxy.heal()
        c.settimeout(2)
        assert c.recv(10) == b"lost?"  # delivered late, in order, as TCP would
        c.sendall(b"again")
        assert c.recv(10) == b"again"
