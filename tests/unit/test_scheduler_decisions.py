"""The scheduler's decisions with a fake agent on the in-memory cluster store (no threads, no
processes): when a slot is due, that a slot is claimed once among nodes, that nothing runs
without the lease, and that missed slots are recorded."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orchestrator.coordination import MemoryCluster, MemoryStore
from orchestrator.daemon.scheduler import Entry, Scheduler, slot_key
from orchestrator.jobs import Job
from orchestrator.runs import RunStatus
from orchestrator.schedule import parse

T0 = datetime(2026, 3, 1, 10, 0, 0, 250000, tzinfo=UTC)


def stores(*nodes: str) -> list[MemoryStore]:
    """One in-memory cluster, a store (session) per node."""
    cluster = MemoryCluster()
    return [MemoryStore(n, cluster) for n in nodes]


@dataclass
class FakeStore:
    saved: list = field(default_factory=list)

    def save(self, record: Any) -> None:
        self.saved.append(record)


@dataclass
class FakeRuntime:
    service: Any = True
    started: bool = True


class FakeAgent:
    def __init__(self, me: str, coord: MemoryStore | None = None) -> None:
        self.me = me
        self.coord = coord
        self.clustered = coord is not None
        self.stop_event = threading.Event()
        self.runtimes = {"svc": FakeRuntime()}
        self.leases: dict[str, Any] = {}
        self.last: dict[tuple[str, str], datetime] = {}
        self.store = FakeStore()
        self.keeper = None  # no fence keeper in these decisions

    def coord_connected(self) -> bool:
        return self.coord is not None and self.coord.connected

    def lease_of(self, svc: str) -> Any:
        return self.leases.get(svc) if self.coord_connected() else None

    def local_last(self, svc: str, job: str) -> datetime | None:
        return self.last.get((svc, job))

    def local_set_last(self, svc: str, job: str, when: datetime) -> None:
        self.last[(svc, job)] = when

    def run_store(self, svc: str) -> FakeStore:
        return self.store

    def flush_records(self) -> None:
        pass


def scheduler(agent: FakeAgent, definition: str = "* * * * * *", node_scoped: bool = False,
              policy: str = "once") -> tuple[Scheduler, list[datetime]]:
    sched = Scheduler(agent)  # type: ignore[arg-type]
    job = Job("run", "task#0", "task#0.schedule", definition, node_scoped=node_scoped)
    sched.entries[("svc", "task#0")] = Entry("svc", job, parse(definition, tz="UTC"),
                                             node_scoped, policy, None)
    launched: list[datetime] = []
    sched.launch = lambda entry, slot, epoch, run_at: launched.append(slot)  # type: ignore[method-assign]
    return sched, launched


def test_standalone_slots_are_whole_seconds_and_run_once():
    sched, launched = scheduler(FakeAgent("n1"))
    sched.tick(T0)
    assert launched == [T0.replace(microsecond=0)]
    sched.tick(T0 + timedelta(milliseconds=300))  # same second again: nothing new
    assert len(launched) == 1
    wait = sched.tick(T0 + timedelta(milliseconds=500))
    assert 0 < wait <= 0.25 + 1e-6  # wakes for the next whole second
    sched.tick(T0 + timedelta(seconds=1))
    assert launched == [T0.replace(microsecond=0) + timedelta(seconds=s) for s in (0, 1)]


def test_no_lease_no_run_and_a_slot_is_claimed_once_among_nodes():
    n1, n2 = stores("n1", "n2")
    a, b = FakeAgent("n1", n1), FakeAgent("n2", n2)
    sa, la = scheduler(a)
    sb, lb = scheduler(b)
    sa.tick(T0)
    sb.tick(T0)
    assert la == lb == [], "ran without holding the lease"
    # both believe they hold the lease (a stale leader: n1's session expired, n2 took the
    # lease over): the claim decides, once
    a.leases["svc"] = n1.acquire_lease("svc")
    n1.expire()
    b.leases["svc"] = n2.acquire_lease("svc")
    for s in range(5):
        now = T0 + timedelta(seconds=s)
        sa.tick(now)
        sb.tick(now)
    slots = la + lb
    assert len(slots) == len(set(slots)) == 5
    assert {c.slot for c in n2.claims("svc", "task#0")} == {slot_key(x) for x in slots}


def test_suspended_connection_starts_nothing():
    [coord] = stores("n1")
    agent = FakeAgent("n1", coord)
    agent.leases["svc"] = coord.acquire_lease("svc")
    sched, launched = scheduler(agent)
    coord.suspend()
    sched.tick(T0)
    assert launched == []
    coord.resume()
    sched.tick(T0 + timedelta(seconds=1))
    assert len(launched) == 1


def test_new_holder_continues_after_the_last_claim_and_records_missed_slots():
    n1, n2 = stores("n1", "n2")
    a, b = FakeAgent("n1", n1), FakeAgent("n2", n2)
    a.leases["svc"] = n1.acquire_lease("svc")
    sa, la = scheduler(a)
    for s in range(3):
        sa.tick(T0 + timedelta(seconds=s))
    assert len(la) == 3
    # n1 dies; n2 gets the lease 4 s later: slots +3..+6 were due while nobody could run
    n1.close()
    b.leases["svc"] = n2.acquire_lease("svc")
    sb, lb = scheduler(b)
    sb.forget_last("svc")
    sb.tick(T0 + timedelta(seconds=6, milliseconds=100))
    assert lb == [T0.replace(microsecond=0) + timedelta(seconds=6)]  # misfire=once: latest
    missed = [r for r in b.store.saved if r.status == RunStatus.MISSED]
    assert sorted(r.scheduled_at for r in missed) == [
        T0.replace(microsecond=0) + timedelta(seconds=s) for s in (3, 4, 5)]
    assert all("missed 3 slots" in r.reason for r in missed)


def test_node_scoped_job_runs_without_a_lease():
    [coord] = stores("n2")
    sched, launched = scheduler(FakeAgent("n2", coord), node_scoped=True)
    sched.tick(T0)
    assert len(launched) == 1


def test_first_slot_of_a_never_run_job_is_caught_up_by_the_next_holder():
    n1, n2 = stores("n1", "n2")
    a, b = FakeAgent("n1", n1), FakeAgent("n2", n2)
    a.leases["svc"] = n1.acquire_lease("svc")
    sa, la = scheduler(a, "* * * * * */10")  # every 10 s (seconds last)
    first = T0.replace(microsecond=0) + timedelta(seconds=10 - T0.second % 10)
    sa.tick(first - timedelta(seconds=1))  # n1 waits for its first slot, then dies
    assert la == []
    n1.close()
    b.leases["svc"] = n2.acquire_lease("svc")
    sb, lb = scheduler(b, "* * * * * */10")
    sb.forget_last("svc")
    sb.tick(first + timedelta(seconds=2))  # after the failover: the slot is not lost
    assert lb == [first]


def test_every_due_slot_is_claimed_before_any_run_is_launched():
    agent = FakeAgent("n1")
    sched = Scheduler(agent)  # type: ignore[arg-type]
    for i in range(3):
        job = Job("run", f"task#{i}", f"task#{i}.schedule", "* * * * * *")
        sched.entries[("svc", job.key)] = Entry("svc", job, parse("* * * * * *", tz="UTC"),
                                                False, "once", None)
    claimed_when_launched: list[int] = []
    sched.launch = lambda entry, slot, epoch, run_at: claimed_when_launched.append(  # type: ignore[method-assign]
        len(agent.last))
    sched.tick(T0)
    assert claimed_when_launched == [3, 3, 3]


def test_the_wait_after_a_slow_tick_counts_from_the_tick_start():
    """A tick that took 0.3 s and found the next slot 0.5 s away sleeps 0.2 s, not 0.5 s."""
    agent = FakeAgent("n1")
    sched, _ = scheduler(agent)
    clock = [100.0]
    waits: list[float] = []

    def slow_tick(now: datetime) -> float:
        clock[0] += 0.3
        return 0.5

    def wait(timeout: float) -> bool:
        waits.append(timeout)
        agent.stop_event.set()
        return False

    sched.tick = slow_tick  # type: ignore[method-assign]
    sched.clock = lambda: clock[0]  # type: ignore[method-assign]
    sched.wake.wait = wait  # type: ignore[method-assign]
    sched.loop()
    assert waits == [pytest.approx(0.2)]


def test_a_far_first_slot_is_shared_only_when_it_comes_near():
    [coord] = stores("n1")
    agent = FakeAgent("n1", coord)
    agent.leases["svc"] = coord.acquire_lease("svc")
    sched, _ = scheduler(agent, "0 3 * * *")  # daily at 03:00; T0 is 10:00
    sched.tick(T0)
    assert coord.get_job_state("svc", "task#0") is None, "shared a slot 17 hours ahead at load"
    first = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    sched.tick(first - timedelta(seconds=90))
    assert coord.get_job_state("svc", "task#0") is None
    sched.tick(first - timedelta(seconds=30))
    assert coord.get_job_state("svc", "task#0") == {"first_due": first.isoformat()}


def test_a_claim_whose_answer_was_lost_is_recorded_missed_if_it_landed():
    [coord] = stores("n1")
    agent = FakeAgent("n1", coord)
    agent.leases["svc"] = coord.acquire_lease("svc")
    sched, launched = scheduler(agent)
    sched.tick(T0)  # slot +0 runs
    coord.lose_answers(landed=True)  # slot +1: claimed in ZooKeeper, but n1 never hears it
    sched.tick(T0 + timedelta(seconds=1))
    assert len(launched) == 1 and agent.store.saved == []
    coord.lose_answers(None)  # reconnected: the next tick finds the claim is n1's
    sched.tick(T0 + timedelta(seconds=2))
    missed = [r for r in agent.store.saved if r.status == RunStatus.MISSED]
    second = T0.replace(microsecond=0) + timedelta(seconds=1)
    assert [r.scheduled_at for r in missed] == [second]
    assert "connection was lost" in missed[0].reason
    assert launched == [T0.replace(microsecond=0) + timedelta(seconds=s) for s in (0, 2)]


def test_a_claim_whose_answer_was_lost_and_did_not_land_is_caught_up_not_recorded():
    [coord] = stores("n1")
    agent = FakeAgent("n1", coord)
    agent.leases["svc"] = coord.acquire_lease("svc")
    sched, launched = scheduler(agent)
    sched.tick(T0)
    coord.lose_answers(landed=False)
    sched.tick(T0 + timedelta(seconds=1))
    coord.lose_answers(None)
    sched.tick(T0 + timedelta(seconds=1, milliseconds=500))  # still the slot's second
    second = T0.replace(microsecond=0) + timedelta(seconds=1)
    assert launched == [T0.replace(microsecond=0), second]  # the open slot ran after all
    assert [r for r in agent.store.saved if r.status == RunStatus.MISSED] == []
