"""The decision loop's pulse: the loop's own deadline moves only while the loop beats (or
is in a declared long action), beside the ZooKeeper deadline; systemd is pinged only while
the loop is alive."""

from __future__ import annotations

import threading

from orchestrator.daemon.heartbeat import Heartbeat

DELAY = 1.5


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Link:
    def __init__(self) -> None:
        self.renewals: list[tuple[float | None, float]] = []

    def renew(self, fence_at: float | None, loop_fence_at: float) -> bool:
        self.renewals.append((fence_at, loop_fence_at))
        return True


def make():
    clock, link, pings = Clock(), Link(), []
    heard = {"at": 100.0}
    hb = Heartbeat(link, lambda: heard["at"] + DELAY, DELAY, threading.Event(),
                   notify=pings.append, clock=clock)
    return hb, clock, link, pings, heard


def test_a_beating_loop_renews_both_deadlines_and_pings_systemd():
    hb, clock, link, pings, heard = make()
    clock.now, heard["at"] = 101.0, 100.8
    hb.beat()
    assert hb.renew_once()
    assert link.renewals == [(100.8 + DELAY, 101.0 + DELAY)]
    assert pings == ["WATCHDOG=1"]


def test_a_quiet_loop_keeps_its_deadline_while_zookeeper_moves_on():
    hb, clock, link, pings, heard = make()
    hb.beat()
    clock.now = heard["at"] = 102.0  # kazoo still hears ZooKeeper, the loop is stuck
    hb.renew_once()
    assert link.renewals == [(102.0 + DELAY, 100.0 + DELAY)]
    assert pings == []  # systemd's watchdog restarts a stuck agent too


def test_a_declared_long_action_counts_as_alive_until_its_bound():
    hb, clock, link, _, _ = make()
    with hb.busy(30):
        clock.now += 10
        assert hb.alive() and hb.loop_fence_at() == 130.0
        clock.now += 25
        assert not hb.alive()  # past its bound: stuck after all
    assert hb.alive()  # the action ended: that is a beat


def test_a_renewal_after_the_whole_process_was_stopped_is_not_a_stuck_loop():
    """SIGSTOP stops the loop and the renewer together: on SIGCONT the first renewal must
    not carry the loop's pre-pause beat while ZooKeeper's clock is already fresh, or the
    keeper would kill the continued agent as stuck (seen in the nemesis soak)."""
    hb, clock, link, _, heard = make()
    hb.beat()
    hb.renew_once()
    clock.now = heard["at"] = 105.0  # 5 s later, continued: kazoo heard ZooKeeper at once
    hb.renew_once()
    fence_at, loop_fence_at = link.renewals[-1]
    assert loop_fence_at >= fence_at
