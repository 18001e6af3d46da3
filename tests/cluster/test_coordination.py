"""Coordination against a real ZooKeeper: leases, fencing epochs, claims, ACLs, failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator.coordination import (
    AccessDenied,
    ClaimConflict,
    ConnectionState,
    CoordinationError,
    Coordinator,
    FencedOut,
    InvalidName,
    NotConnected,
    ServiceSnapshot,
)
from orchestrator.devtools.tcpproxy import TcpProxy
from orchestrator.devtools.zookeeper import start_server
from tests.store_contract import CONTRACT

REPO = Path(__file__).resolve().parents[2]
CLUSTER, SECRET, TIMEOUT = "demo", "s3cret", 2.0

MakeCoord = Callable[..., Coordinator]


@pytest.fixture
def make_coord(zk_chroot: str) -> Iterator[MakeCoord]:
    made: list[Coordinator] = []

    def make(node: str, hosts: str | None = None, **kw: object) -> Coordinator:
        kw.setdefault("secret", SECRET)
        kw.setdefault("session_timeout", TIMEOUT)
        coord = Coordinator(hosts or zk_chroot, CLUSTER, node=node, **kw)  # type: ignore[arg-type]
        made.append(coord)
        return coord

    yield make
    for coord in made:
        coord.close()


class StateLog:
    """Records connection states with their time, and lets a test wait for a sequence."""

    def __init__(self, coord: Coordinator) -> None:
        self.states: list[tuple[float, ConnectionState]] = []
        self._cond = threading.Condition()
        coord.add_listener(self)

    def __call__(self, state: ConnectionState) -> None:
        with self._cond:
            self.states.append((time.monotonic(), state))
            self._cond.notify_all()

    def seq(self) -> list[ConnectionState]:
        return [s for _, s in self.states]

    def wait_for(self, *wanted: ConnectionState, timeout: float = 10.0) -> float:
        """Wait until ``wanted`` appears as a subsequence; returns when the last one came."""

        def found() -> float | None:
            i = 0
            for t, s in self.states:
                if s is wanted[i]:
                    i += 1
                    if i == len(wanted):
                        return t
            return None

        with self._cond:
            self._cond.wait_for(lambda: found() is not None, timeout)
            t = found()
        assert t is not None, f"states {self.seq()} never showed {wanted}"
        return t


def wait_until(pred: Callable[[], bool], timeout: float, step: float = 0.05) -> float:
    start = time.monotonic()
    while not pred():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(step)
    return time.monotonic() - start


def split_hosts(hosts: str) -> tuple[str, int, str]:
    first, _, chroot = hosts.partition("/")
    host, port = first.split(",")[0].rsplit(":", 1)
    return host, int(port), "/" + chroot if chroot else ""


# ----------------------------------------------------------------------------- membership, configs


def test_membership_configs_and_watches(make_coord: MakeCoord) -> None:
    a, b = make_coord("n1"), make_coord("n2")
    members, configs = threading.Event(), threading.Event()
    seen: list[str | None] = []
    b.watch_nodes(members)
    b.watch_services(configs)
    b.watch_service_config("web", seen.append)
    members.clear(), configs.clear()
    a.register_node({"version": "1", "load": 0.5})
    assert members.wait(5)
    assert b.nodes() == {"n1": {"version": "1", "load": 0.5}}
    a.register_node({"version": "2"})  # update in place
    # b reads from its own server, which may apply a's write a moment later (ZooKeeper
    # orders each client's view, it does not make another client's write visible at once;
    # a 3-member ensemble showed it): after a watch fired, or waited for
    wait_until(lambda: b.nodes()["n1"] == {"version": "2"}, 5)

    a.put_service_config("web", "[DEFAULT]\nnodes = n1 n2\n")
    assert configs.wait(5)
    assert b.service_names() == ["web"]
    assert b.get_service_config("web") == "[DEFAULT]\nnodes = n1 n2\n"
    wait_until(lambda: "[DEFAULT]\nnodes = n1 n2\n" in seen, 5)
    a.delete_service_config("web")
    wait_until(lambda: b.get_service_config("web") is None and b.service_names() == [], 5)
    wait_until(lambda: seen[-1] is None, 5)

    a.close()
    wait_until(lambda: "n1" not in b.nodes(), 5)
    with pytest.raises(InvalidName):
        b.put_service_config("a/b", "x")


# ----------------------------------------------------------------------------- leases


def test_lease_of_a_sigkilled_holder_goes_within_the_session_timeout(
    make_coord: MakeCoord, zk_chroot: str
) -> None:
    b = make_coord("observer")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("lease_holder.py")), zk_chroot, CLUSTER]
        + [SECRET, "victim", "web"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("HELD "), f"helper said {line!r}"
        assert b.lease_holder("web").node == "victim"  # type: ignore[union-attr]
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        elapsed = wait_until(lambda: b.lease_holder("web") is None, 6)
    finally:
        proc.kill()
        proc.wait(5)
    # Not at once (nobody said goodbye), and no later than the session timeout plus slack.
    assert 1.0 < elapsed < 3.0, elapsed
    assert b.acquire_lease("web").node == "observer"


# ----------------------------------------------------------------------------- claims


def test_claim_is_exactly_once_under_a_race(make_coord: MakeCoord) -> None:
    coords = [make_coord("n1"), make_coord("n2")]
    slots = [f"2026-03-01T10:{m:02d}:00+00:00" for m in range(25)]
    barrier = threading.Barrier(2)
    won: dict[str, list[str]] = {s: [] for s in slots}
    conflicts: dict[str, list[str | None]] = {s: [] for s in slots}
    errors: list[BaseException] = []

    def race(coord: Coordinator) -> None:
        try:
            for slot in slots:
                barrier.wait(5)
                try:
                    won[slot].append(coord.claim_run("web", "task#0", slot, None).node)
                except ClaimConflict as exc:
                    conflicts[slot].append(exc.existing.node if exc.existing else None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(c,)) for c in coords]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    for slot in slots:
        assert len(won[slot]) == 1, (slot, won[slot])
        assert conflicts[slot] == won[slot], (slot, conflicts[slot])  # loser sees the winner
    assert len(coords[0].claims("web", "task#0")) == len(slots)


# ----------------------------------------------------------------------------- failures


def test_claim_refused_while_suspended_and_fenced_after_partition(
    make_coord: MakeCoord, zk_chroot: str
) -> None:
    host, port, chroot = split_hosts(zk_chroot)
    with TcpProxy((host, port)) as proxy:
        a = make_coord("n1", hosts=proxy.hosts + chroot)
        b = make_coord("n2")
        log = StateLog(a)
        lease_a = a.acquire_lease("web")
        a.claim_run("web", "task#0", "s1", lease_a)

        proxy.blackhole()
        t0 = time.monotonic()
        t_suspended = log.wait_for(ConnectionState.SUSPENDED, timeout=5) - t0
        with pytest.raises(NotConnected):
            a.claim_run("web", "task#0", "s2", lease_a)
        with pytest.raises(NotConnected):
            a.acquire_lease("other")
        # The rest of the cluster sees the lease go once the partitioned session expires.
        wait_until(lambda: b.lease_holder("web") is None, 6)
        t_gone = time.monotonic() - t0
        lease_b = b.acquire_lease("web")
        b.claim_run("web", "task#0", "s2", lease_b)
        assert t_suspended < TIMEOUT, t_suspended  # a fenced itself before losing the lease

        proxy.heal()
        log.wait_for(ConnectionState.SUSPENDED, ConnectionState.LOST, ConnectionState.CONNECTED)
        wait_until(lambda: a.connected, 5)
        with pytest.raises(FencedOut):
            a.claim_run("web", "task#0", "s3", lease_a)
        with pytest.raises(ClaimConflict):
            a.claim_run("web", "task#0", "s2", None)
        assert a.lease_holder("web") == lease_b
        assert t_suspended < t_gone < 2 * TIMEOUT, (t_suspended, t_gone)


def test_acl_refuses_clients_without_the_secret(make_coord: MakeCoord, zk_chroot: str) -> None:
    a = make_coord("n1")
    a.put_service_config("web", "secret stuff")
    for secret in (None, "wrong"):
        with pytest.raises(AccessDenied, match="secret"):
            make_coord("intruder", secret=secret)

    # A plain ZooKeeper client (kazoo directly, on purpose) can neither write nor read.
    from kazoo.client import KazooClient
    from kazoo.exceptions import NoAuthError
    from kazoo.security import OPEN_ACL_UNSAFE

    zk = KazooClient(zk_chroot.partition("/")[0])  # no chroot: a.chroot is absolute
    zk.start(10)
    try:
        root = a.chroot
        for attempt in (
            lambda: zk.create(f"{root}/services/evil", b"x"),
            lambda: zk.set(f"{root}/configs/web", b"hacked"),
            lambda: zk.get(f"{root}/configs/web"),
            lambda: zk.delete(f"{root}/configs/web"),
            lambda: zk.set_acls(root, list(OPEN_ACL_UNSAFE)),
        ):
            with pytest.raises(NoAuthError):
                attempt()
    finally:
        zk.stop()
        zk.close()
    assert a.get_service_config("web") == "secret stuff"


def test_no_kazoo_exception_escapes_when_zookeeper_is_down(
    tmp_path: Path, make_coord: MakeCoord
) -> None:
    t0 = time.monotonic()
    with pytest.raises(NotConnected, match="unreachable"):
        make_coord("n1", hosts="127.0.0.1:1", connect_timeout=1.0)
    assert time.monotonic() - t0 < 5

    server = start_server(tmp_path / "zk")
    try:
        a = make_coord("n1", hosts=server.hosts + "/down")
        a.register_node({})
        server.stop()
        wait_until(lambda: a.state is not ConnectionState.CONNECTED, 5)
        calls = [
            a.nodes,
            a.service_names,
            lambda: a.acquire_lease("web"),
            lambda: a.claim_run("web", "j", "s", None),
            lambda: a.run_records("web"),
            lambda: a.put_service_config("web", "x"),
        ]
        for call in calls:
            t = time.monotonic()
            with pytest.raises(NotConnected) as err:
                call()
            assert time.monotonic() - t < TIMEOUT + 1
            assert isinstance(err.value, CoordinationError)
    finally:
        server.stop()
    a.close()
    with pytest.raises(NotConnected, match="closed"):
        a.nodes()


def test_ensemble_leader_loss_suspends_then_reconnects_and_keeps_the_lease(
    zk_ensemble, make_coord: MakeCoord
) -> None:
    hosts = zk_ensemble.hosts + "/leaderloss"
    a, b = make_coord("n1", hosts=hosts), make_coord("n2", hosts=hosts)
    logs = [StateLog(a), StateLog(b)]
    session_a = a.session_id
    lease = a.acquire_lease("web")

    zk_ensemble.leader().kill()
    for log in logs:
        log.wait_for(ConnectionState.SUSPENDED, ConnectionState.CONNECTED, timeout=15)
        assert ConnectionState.LOST not in log.seq()
    wait_until(lambda: a.connected and b.connected, 10)
    assert a.session_id == session_a
    assert b.lease_holder("web") == lease
    claim = a.claim_run("web", "task#0", "after-election", lease)
    assert claim.epoch == lease.epoch


def test_paths_deleted_by_another_node_are_made_again(make_coord: MakeCoord) -> None:
    """A session remembers the paths it ensured; when another node purges the service (delete
    then create again), claims, run slots and run records still work."""
    a, b = make_coord("n1"), make_coord("n2")
    a.put_service_config("web", "[DEFAULT]\n")
    a.claim_run("web", "check", "s1", None, node_scoped=True)
    a.append_run_record("web", "task#0", {"run_id": "t0"})
    assert a.take_run_slot("web", "task#0", 1, {"run_id": "t0"})
    b.delete_service_config("web")  # purges the runtime tree a had ensured
    b.put_service_config("web", "[DEFAULT]\n")
    lease = a.acquire_lease("web")
    a.claim_run("web", "task#0", "s2", lease)
    a.claim_run("web", "check", "s2", None, node_scoped=True)
    a.append_run_record("web", "task#0", {"run_id": "t1"})
    assert a.take_run_slot("web", "task#0", 1, {"run_id": "t1"})
    assert [r["run_id"] for r in b.run_records("web", "task#0")] == ["t1"]
    assert [c.slot for c in b.claims("web", "task#0")] == ["s2"]


def test_service_snapshot_reads_the_four_documents_together(make_coord: MakeCoord) -> None:
    a, b = make_coord("n1"), make_coord("n2")
    assert b.service_snapshot("web") == ServiceSnapshot("web", None, None, {}, 0)
    a.put_service_config("web", "[DEFAULT]\n")
    lease = a.acquire_lease("web")
    a.update_target("web", lambda t: {**t, "state": "started"})
    snap = b.service_snapshot("web")
    assert snap == ServiceSnapshot("web", "[DEFAULT]\n", lease, {"state": "started"},
                                   lease.epoch)
    assert (snap.config, snap.lease, snap.target, snap.epoch) == (
        b.get_service_config("web"), b.lease_holder("web"), b.get_target("web"),
        b.current_epoch("web"))
    assert a.claim_runs([]) == []


@pytest.mark.parametrize("check", CONTRACT, ids=lambda f: f.__name__)
def test_the_store_contract(check, make_coord: MakeCoord) -> None:
    """Leases, epochs, claims, state and records (tests/store_contract.py), on ZooKeeper."""
    check(make_coord("n1"), make_coord("n2"))
