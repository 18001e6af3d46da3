"""The in-memory cluster store against the contract the ZooKeeper one passes
(tests/cluster/test_coordination.py): the same behaviours, pure logic, no server."""

from __future__ import annotations

import inspect
import threading

import pytest

from orchestrator.coordination import (
    ClaimConflict,
    ClaimRequest,
    ClusterStore,
    ConnectionState,
    CoordinationError,
    Coordinator,
    FencedOut,
    InvalidName,
    LeaseHeld,
    MemoryCluster,
    MemoryStore,
    NotConnected,
    OutcomeUnknown,
    ServiceSnapshot,
)
from tests.store_contract import CONTRACT


@pytest.fixture
def cluster() -> MemoryCluster:
    return MemoryCluster()


@pytest.fixture
def a(cluster: MemoryCluster) -> MemoryStore:
    return MemoryStore("n1", cluster)


@pytest.fixture
def b(cluster: MemoryCluster) -> MemoryStore:
    return MemoryStore("n2", cluster)


def public(cls: type) -> set[str]:
    return {n for n, _ in inspect.getmembers(cls) if not n.startswith("_")}


ZK_ONLY = {"chroot", "cluster"}  # the ZooKeeper store's own (tests of ACLs, chroots)
MEMORY_ONLY = {"cluster", "suspend", "resume", "expire", "lose_answers", "fail", "wake_up"}


def test_both_stores_implement_exactly_the_declared_interface() -> None:
    declared = public(ClusterStore)
    assert public(Coordinator) - ZK_ONLY == declared, "Coordinator differs from ClusterStore"
    assert public(MemoryStore) - MEMORY_ONLY == declared, "MemoryStore differs from ClusterStore"
    assert isinstance(MemoryStore("n1"), ClusterStore)
    for name in declared:  # same parameters, so a caller never tells them apart
        want = getattr(ClusterStore, name)
        if callable(want):
            params = list(inspect.signature(want).parameters)
            for impl in (Coordinator, MemoryStore):
                assert list(inspect.signature(getattr(impl, name)).parameters) == params, (
                    impl.__name__, name)


# ----------------------------------------------------------------------------- membership, configs


def test_membership_configs_and_watches(a: MemoryStore, b: MemoryStore) -> None:
    members, configs = threading.Event(), threading.Event()
    seen: list[str | None] = []
    b.watch_nodes(members)
    b.watch_services(configs)
    b.watch_service_config("web", seen.append)
    members.clear(), configs.clear()
    a.register_node({"version": "1", "load": 0.5})
    assert members.is_set()
    assert b.nodes() == {"n1": {"version": "1", "load": 0.5}}
    a.register_node({"version": "2"})  # update in place
    assert b.nodes()["n1"] == {"version": "2"}

    a.put_service_config("web", "[DEFAULT]\nnodes = n1 n2\n")
    assert configs.is_set()
    assert b.service_names() == ["web"]
    assert b.get_service_config("web") == "[DEFAULT]\nnodes = n1 n2\n"
    assert "[DEFAULT]\nnodes = n1 n2\n" in seen
    a.delete_service_config("web")
    assert b.get_service_config("web") is None and b.service_names() == []
    assert seen[-1] is None

    a.close()
    assert "n1" not in b.nodes()
    with pytest.raises(InvalidName):
        b.put_service_config("a/b", "x")


def test_membership_comes_back_with_a_new_session(a: MemoryStore, b: MemoryStore) -> None:
    states: list[ConnectionState] = []
    a.add_listener(states.append)
    a.register_node({"v": 1})
    lease = a.acquire_lease("web")
    session = a.session_id
    a.expire()
    assert states == [ConnectionState.LOST, ConnectionState.CONNECTED]
    assert a.session_id != session and a.connected
    assert b.nodes() == {"n1": {"v": 1}}  # re-published by itself
    assert b.lease_holder("web") is None and not a.holds_lease(lease)  # leases are not


# ----------------------------------------------------------------------------- leases


def test_another_session_of_the_same_node_does_not_hold_its_lease(cluster: MemoryCluster
                                                                  ) -> None:
    old, new = MemoryStore("n1", cluster), MemoryStore("n1", cluster)
    lease = old.acquire_lease("web")
    with pytest.raises(LeaseHeld, match="another session of this node"):
        new.acquire_lease("web")
    assert not new.holds_lease(lease) and not new.release_lease("web")


def test_the_service_snapshot_is_its_four_documents(a: MemoryStore, b: MemoryStore) -> None:
    assert b.service_snapshot("web") == ServiceSnapshot("web", None, None, {}, 0)
    a.put_service_config("web", "[DEFAULT]\n")
    lease = a.acquire_lease("web")
    a.update_target("web", lambda t: {**t, "state": "started"})
    assert b.service_snapshot("web") == ServiceSnapshot(
        "web", "[DEFAULT]\n", lease, {"state": "started"}, lease.epoch)


def test_targets_and_instances(a: MemoryStore, b: MemoryStore) -> None:
    targets: list[dict] = []
    b.watch_target("web", targets.append)
    assert a.get_target("web") == {} and targets == [{}]
    assert a.update_target("web", lambda t: {**t, "frozen": True}) == {"frozen": True}
    assert b.update_target("web", lambda t: {**t, "node": "n2"}) == {"frozen": True, "node": "n2"}
    assert targets[-1] == {"frozen": True, "node": "n2"}
    a.publish_instance("web", {"avail": "up"})
    b.publish_instance("web", {"avail": "down"})
    a.publish_instance("web", {"avail": "warn"})
    assert b.instances("web") == {"n1": {"avail": "warn"}, "n2": {"avail": "down"}}
    b.unpublish_instance("web")
    a.close()  # an instance is ephemeral
    assert MemoryStore("n3", a.cluster).instances("web") == {}


# ----------------------------------------------------------------------------- claims


def test_claim_is_exactly_once_among_nodes(a: MemoryStore, b: MemoryStore) -> None:
    slots = [f"2026-03-01T10:{m:02d}:00+00:00" for m in range(5)]
    for i, slot in enumerate(slots):
        first, second = (a, b) if i % 2 else (b, a)
        won = first.claim_run("web", "task#0", slot, None)
        with pytest.raises(ClaimConflict) as lost:
            second.claim_run("web", "task#0", slot, None)
        assert lost.value.existing == won  # the loser sees the winner
    assert [c.slot for c in a.claims("web", "task#0")] == slots


def test_a_claim_whose_answer_is_lost_may_have_landed_or_not(a: MemoryStore) -> None:
    lease = a.acquire_lease("web")
    a.lose_answers(landed=True)
    with pytest.raises(OutcomeUnknown):
        a.claim_run("web", "task#0", "s1", lease)
    a.lose_answers(landed=False)
    [outcome] = a.claim_runs([ClaimRequest("web", "task#0", "s2", lease)])
    assert isinstance(outcome, OutcomeUnknown)
    a.lose_answers(None)
    assert a.get_claim("web", "task#0", "s1").epoch == lease.epoch  # type: ignore[union-attr]
    assert a.get_claim("web", "task#0", "s2") is None


# ----------------------------------------------------------------------------- failures


def test_every_call_is_refused_while_suspended_and_the_lease_survives(
        a: MemoryStore, b: MemoryStore) -> None:
    states: list[ConnectionState] = []
    a.add_listener(states.append)
    lease = a.acquire_lease("web")
    a.suspend()
    assert not a.connected and states == [ConnectionState.SUSPENDED]
    heard = a.last_heard
    calls = [
        a.nodes,
        a.service_names,
        lambda: a.acquire_lease("other"),
        lambda: a.claim_run("web", "j", "s", lease),
        lambda: a.run_records("web"),
        lambda: a.put_service_config("web", "x"),
        lambda: a.take_run_slot("web", "task#0", 1, {}),
    ]
    for call in calls:
        with pytest.raises(NotConnected, match="suspended"):
            call()
    assert a.claim_runs([ClaimRequest("web", "j", "s", lease)])[0].__class__ is NotConnected
    assert not a.holds_lease(lease) and a.last_heard == heard
    a.resume()
    assert a.connected and a.holds_lease(lease) and b.lease_holder("web") == lease
    assert a.claim_run("web", "j", "s", lease).epoch == lease.epoch
    a.close()
    with pytest.raises(NotConnected, match="closed"):
        a.nodes()


def test_a_partitioned_holder_is_fenced_after_its_session_expires(a: MemoryStore,
                                                                  b: MemoryStore) -> None:
    lease_a = a.acquire_lease("web")
    a.claim_run("web", "task#0", "s1", lease_a)
    a.suspend()
    a.expire()  # the session expired while a was cut off; a new one connects
    lease_b = b.acquire_lease("web")
    b.claim_run("web", "task#0", "s2", lease_b)
    with pytest.raises(FencedOut):
        a.claim_run("web", "task#0", "s3", lease_a)
    with pytest.raises(ClaimConflict):
        a.claim_run("web", "task#0", "s2", None)
    assert a.lease_holder("web") == lease_b


def test_an_injected_fault_is_raised_by_that_method_only(a: MemoryStore) -> None:
    a.fail("take_run_slot", NotConnected("take a run slot of web/task#0: connection suspended"))
    with pytest.raises(NotConnected, match="connection suspended"):
        a.take_run_slot("web", "task#0", 1, {})
    a.append_run_record("web", "task#0", {"run_id": "r"})
    a.fail("take_run_slot", None)
    assert a.take_run_slot("web", "task#0", 1, {})
    assert isinstance(NotConnected("x"), CoordinationError)


def test_paths_deleted_by_another_node_are_made_again(a: MemoryStore, b: MemoryStore) -> None:
    a.put_service_config("web", "[DEFAULT]\n")
    a.claim_run("web", "check", "s1", None, node_scoped=True)
    a.append_run_record("web", "task#0", {"run_id": "t0"})
    assert a.take_run_slot("web", "task#0", 1, {"run_id": "t0"})
    b.delete_service_config("web")
    b.put_service_config("web", "[DEFAULT]\n")
    lease = a.acquire_lease("web")
    a.claim_run("web", "task#0", "s2", lease)
    a.claim_run("web", "check", "s2", None, node_scoped=True)
    a.append_run_record("web", "task#0", {"run_id": "t1"})
    assert a.take_run_slot("web", "task#0", 1, {"run_id": "t1"})
    assert [r["run_id"] for r in b.run_records("web", "task#0")] == ["t1"]
    assert [c.slot for c in b.claims("web", "task#0")] == ["s2"]


# ----------------------------------------------------------------------------- run slots


def test_run_slots_are_counted_cluster_wide_and_go_with_the_session(a: MemoryStore,
                                                                    b: MemoryStore) -> None:
    one = a.take_run_slot("web", "task#0", 2, {"run_id": "r1"})
    two = b.take_run_slot("web", "task#0", 2, {"run_id": "r2"})
    assert one and two and one != two
    assert b.take_run_slot("web", "task#0", 2, {"run_id": "r3"}) is None
    assert [d["run_id"] for d in a.running_runs("web", "task#0")] == ["r1", "r2"]
    b.release_run_slot(two)
    assert b.take_run_slot("web", "task#0", 2, {"run_id": "r3"}) == two
    a.close()  # a daemon's slots are ephemeral
    assert [d["run_id"] for d in b.running_runs("web", "task#0")] == ["r3"]
    assert b.node_run_slots("n1") == [] and b.node_run_slots("n2") == []


def test_persistent_run_slots_outlive_the_session_until_freed(cluster: MemoryCluster,
                                                              b: MemoryStore) -> None:
    manual = MemoryStore("n1", cluster)
    manual.persist_run_slots()
    path = manual.take_run_slot("web", "task#0", 1, {"run_id": "r1", "node": "n1"})
    assert path is not None
    manual.note_run_slot_command(path, 4242, 12.5)
    manual.close()  # svcmgr SIGKILLed: its command may still run, the slot stays
    [slot] = b.node_run_slots("n1")
    assert slot.path == path
    assert slot.doc is not None and slot.doc["extra"] == {"command_pid": 4242,
                                                          "command_started": 12.5}
    assert b.take_run_slot("web", "task#0", 1, {"run_id": "r2"}) is None
    b.note_run_slot_command(path, 4243, None)  # the slot changed since it was read
    assert not b.free_run_slot(slot, "n1")
    [slot] = b.node_run_slots("n1")
    assert b.free_run_slot(slot, "n1")
    assert b.node_run_slots("n1") == [] and b.running_runs("web", "task#0") == []


def test_a_released_persistent_slot_leaves_no_index_entry(a: MemoryStore) -> None:
    a.persist_run_slots()
    path = a.take_run_slot("web", "task#0", 1, {"run_id": "r1"})
    assert path is not None and len(a.node_run_slots("n1")) == 1
    a.release_run_slot(path)
    assert a.node_run_slots("n1") == [] and a.running_runs("web", "task#0") == []


@pytest.mark.parametrize("check", CONTRACT, ids=lambda f: f.__name__)
def test_the_store_contract(check, a: MemoryStore, b: MemoryStore) -> None:
    """The same contract as ZooKeeper's (tests/store_contract.py), on the memory store."""
    check(a, b)
