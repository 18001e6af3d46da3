"""The cluster store's contract, one body for both implementations: each check takes two
stores of one cluster (nodes n1 and n2). tests/cluster/test_coordination.py runs it against
ZooKeeper, tests/unit/test_memory_store.py against the memory store; a new backend runs it
too (docs/architecture.md)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from orchestrator.coordination import (
    ClaimConflict,
    ClaimRequest,
    ClusterStore,
    FencedOut,
    LeaseHeld,
    NotLeaseHolder,
)


def lease_is_exclusive_and_epochs_increase(a: ClusterStore, b: ClusterStore) -> None:
    lease = a.acquire_lease("web")
    assert (lease.node, lease.svc) == ("n1", "web")
    assert a.acquire_lease("web") == lease  # idempotent for the holder's session
    with pytest.raises(LeaseHeld) as held:
        b.acquire_lease("web")
    assert held.value.holder == lease
    assert b.lease_holder("web") == lease and a.holds_lease(lease) and not b.holds_lease(lease)
    assert not b.release_lease("web")  # not b's to release
    assert a.lease_holder("web") == lease

    epochs = [lease.epoch]
    for holder in (b, a, b):
        for other in (a, b):
            other.release_lease("web")
        epochs.append(holder.acquire_lease("web").epoch)
    assert epochs == sorted(set(epochs)), epochs  # strictly increasing across holders
    assert b.current_epoch("web") == epochs[-1] and b.current_epoch("never") == 0


def lease_vanishes_when_holder_closes(a: ClusterStore, b: ClusterStore) -> None:
    gone = threading.Event()
    lease = a.acquire_lease("web")
    b.watch_lease("web", lambda holder: holder is None and gone.set())
    a.close()
    assert gone.wait(2)
    assert b.lease_holder("web") is None
    assert b.acquire_lease("web").epoch == lease.epoch + 1


def claims_under_lease_fence_non_holders_and_stale_epochs(a: ClusterStore, b: ClusterStore) -> None:
    lease_a = a.acquire_lease("web")
    claim = a.claim_run("web", "task#0", "s1", lease_a, payload={"origin": "scheduler"})
    assert (claim.node, claim.epoch, claim.payload) == (
        "n1",
        lease_a.epoch,
        {"origin": "scheduler"},
    )
    assert b.get_claim("web", "task#0", "s1") == claim

    with pytest.raises(NotLeaseHolder):  # someone else's lease object
        b.claim_run("web", "task#0", "s2", lease_a)

    a.release_lease("web")
    with pytest.raises(NotLeaseHolder) as lost:  # released, nobody took it over
        a.claim_run("web", "task#0", "s2", lease_a)
    assert not isinstance(lost.value, FencedOut)

    lease_b = b.acquire_lease("web")
    with pytest.raises(FencedOut) as fenced:  # replaced: stale epoch
        a.claim_run("web", "task#0", "s2", lease_a)
    assert fenced.value.current_epoch == lease_b.epoch
    with pytest.raises(FencedOut):
        a.set_job_state("web", "task#0", {"last_run": "x"}, lease=lease_a)
    assert b.get_claim("web", "task#0", "s2") is None  # the refused claim left nothing

    b.claim_run("web", "task#0", "s2", lease_b)
    with pytest.raises(ClaimConflict):
        b.claim_run("web", "task#0", "s2", lease_b)


def claim_runs_settles_each_claim_like_claim_run(a: ClusterStore, b: ClusterStore) -> None:
    """One batch: a fresh slot, a taken slot, a stale lease, a node-scoped slot and a
    service without a lease at all; each outcome is claim_run's, in the request order."""
    stale = a.acquire_lease("db")
    a.release_lease("db")
    b.acquire_lease("db")  # a's lease on db is now stale (fenced out)
    web = a.acquire_lease("web")
    a.claim_run("web", "task#0", "s1", web)
    outcomes = a.claim_runs([
        ClaimRequest("web", "task#0", "s2", web),
        ClaimRequest("web", "task#0", "s1", web),
        ClaimRequest("db", "task#0", "s1", stale),
        ClaimRequest("web", "check", "s1", None, node_scoped=True, payload={"k": 1}),
        ClaimRequest("web", "task#1", "s1", web, payload={"run_at": "x"}),
    ])
    assert [type(o).__name__ for o in outcomes] == [
        "Claim", "ClaimConflict", "FencedOut", "Claim", "Claim"]
    assert outcomes[1].existing.slot == "s1"  # type: ignore[union-attr]
    assert b.get_claim("web", "check", "s1", node="n1").payload == {"k": 1}  # type: ignore[union-attr]
    assert b.get_claim("db", "task#0", "s1") is None  # the fenced claim left nothing
    assert [c.slot for c in b.claims("web", "task#0")] == ["s1", "s2"]


def node_scoped_claims_prune_state_and_run_records(a: ClusterStore, b: ClusterStore) -> None:
    # Node-scoped: each node may claim the same slot once for itself.
    a.claim_run("web", "check", "s1", None, node_scoped=True)
    b.claim_run("web", "check", "s1", None, node_scoped=True)
    with pytest.raises(ClaimConflict):
        a.claim_run("web", "check", "s1", None, node_scoped=True)
    assert a.get_claim("web", "check", "s1", node="n2").node == "n2"  # type: ignore[union-attr]

    for i in range(6):
        a.claim_run("web", "task#0", f"s{i}", None)
    assert a.prune_claims("web", "task#0", keep=2) == 4
    assert [c.slot for c in a.claims("web", "task#0")] == ["s4", "s5"]

    assert a.get_job_state("web", "task#0") is None
    a.set_job_state("web", "task#0", {"last_run": "t1"})
    b.set_job_state("web", "task#0", {"last_run": "t2"})
    a.set_job_state("web", "check", {"last_run": "n1"}, node="n1")
    assert a.get_job_state("web", "task#0") == {"last_run": "t2"}
    assert b.get_job_state("web", "check", node="n1") == {"last_run": "n1"}

    for i in range(5):
        a.append_run_record("web", "task#0", {"run_id": f"t{i}"}, keep=3)
        b.append_run_record("web", "check", {"run_id": f"c{i}"}, keep=3)
    assert [r["run_id"] for r in a.run_records("web", "task#0")] == ["t2", "t3", "t4"]
    assert [r["run_id"] for r in b.run_records("web")] == ["t2", "c2", "t3", "c3", "t4", "c4"]
    assert a.run_records("nosuch") == []


def flex_instance_slots_are_leases_of_their_own_that_fence_the_services_claims(
        a: ClusterStore, b: ClusterStore) -> None:
    from orchestrator.coordination.layout import slot_lease_name

    s0, s1 = slot_lease_name("web", 0), slot_lease_name("web", 1)
    lease_a = a.acquire_lease(s0)
    lease_b = b.acquire_lease(s1)
    assert (lease_a.svc, lease_a.node, lease_b.node) == (s0, "n1", "n2")
    with pytest.raises(LeaseHeld):
        b.acquire_lease(s0)
    assert a.lease_holder("web") is None  # the failover lease is another znode
    # per-instance claims: node-scoped under the service, fenced by each node's slot
    a.claim_run("web", "task#0", "s1", lease_a, node_scoped=True)
    b.claim_run("web", "task#0", "s1", lease_b, node_scoped=True)
    with pytest.raises(NotLeaseHolder):
        a.claim_run("other", "task#0", "s1", lease_a)
    # n1 gives slot 0 up, n2 takes it: n1's old slot lease is fenced out
    assert a.release_lease(s0)
    b.release_lease(s1)
    taken = b.acquire_lease(s0)
    assert taken.epoch > lease_a.epoch
    with pytest.raises((FencedOut, NotLeaseHolder)):
        a.claim_run("web", "task#0", "s2", lease_a, node_scoped=True)
    b.claim_run("web", "task#0", "s2", taken)  # once per cluster, under its slot
    b.delete_service_config("web")  # the purge takes the slots with the service
    assert a.lease_holder(s0) is None and a.current_epoch(s0) == 0


CONTRACT: list[Callable[[ClusterStore, ClusterStore], None]] = [
    lease_is_exclusive_and_epochs_increase,
    lease_vanishes_when_holder_closes,
    claims_under_lease_fence_non_holders_and_stale_epochs,
    claim_runs_settles_each_claim_like_claim_run,
    node_scoped_claims_prune_state_and_run_records,
    flex_instance_slots_are_leases_of_their_own_that_fence_the_services_claims,
]
