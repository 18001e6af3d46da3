"""The resource monitor's decisions, as pure functions: resource states, restart marks and
the config in; what to do out (restart these, reset those, run the monitor_action, report).
The clock is a parameter (seconds, any monotonic origin). No I/O.

OpenSVC om3's rules (daemon/imon/orchestration_resource_restart.go):

* a resource whose status is up, stdby up, n/a or undef is fine: its restart count is reset
  to the config value, and the monitor action is re-armed;
* a resource that is down, stdby down or warn is acted on only when the instance is started
  here, or when the resource is a standby one (started on every node);
* it is restarted while restarts remain (``restart``, monitored or not), each attempt at
  least ``restart_delay`` after the previous one;
* once none remains, a monitored resource triggers the monitor action, once, until a
  resource is seen up again (or ``clear``); an unmonitored one is only reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FINE = frozenset({"up", "stdby up", "n/a", "undef"})


@dataclass(frozen=True)
class Watched:
    """One resource as the monitor sees it now."""

    rid: str
    status: str  # an OpenSVC status word
    monitored: bool = False
    restart: int = 0
    restart_delay: float = 0.5
    standby: bool = False
    restartable: bool = True  # its driver starts with the service (app)
    reason: str | None = None  # why the status is what it is (check exited with code 1)


@dataclass
class Mark:
    """A resource's consecutive restart attempts since it was last seen fine."""

    attempts: int = 0
    last_at: float | None = None  # when the last attempt started (clock seconds)
    reported: bool = False  # its failure was reported (nothing left to try)


@dataclass
class Marks:
    """What the monitor remembers about one service on this node (in memory, as om3)."""

    resources: dict[str, Mark] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)  # restart attempts, ever (to clear)
    action: str | None = None  # the monitor action taken in this failure episode
    action_reason: str | None = None
    cleared: Any = None  # the last ``clear`` seen (target.cleared)

    def mark(self, rid: str) -> Mark:
        return self.resources.setdefault(rid, Mark())

    def clear(self, token: Any = None) -> None:
        self.resources.clear()
        self.totals.clear()
        self.action = self.action_reason = None
        self.cleared = token


@dataclass(frozen=True)
class Restart:
    rid: str
    not_before: float  # clock seconds
    attempt: int  # 1-based
    of: int


@dataclass(frozen=True)
class Plan:
    resets: tuple[str, ...] = ()  # seen fine again: their counts go back to zero
    restarts: tuple[Restart, ...] = ()
    action_rid: str | None = None  # a monitored resource whose restarts are spent
    action_reason: str | None = None
    reports: tuple[tuple[str, str], ...] = ()  # (rid, sentence): failures only reported
    skipped: str | None = None  # why nothing is looked at (not started, frozen, ...)


def failure_reason(w: Watched, attempts: int) -> str:
    """The sentence a node marked failed carries: the resource, its state, the attempts."""
    why = f" ({w.reason})" if w.reason else ""
    tried = (f"{attempts} restart attempt(s) failed" if attempts
             else "no restart configured" if w.restartable else "its driver cannot restart it")
    return f"monitored resource {w.rid} is {w.status}{why}: {tried}"


def plan(resources: list[Watched], marks: Marks, *, started: bool, now: float,
         quiet: str | None = None) -> Plan:
    """What the monitor does now. ``started``: the instance is started here (else only
    standby resources are looked at). ``quiet``: a reason not to act at all (a stop, switch
    or fence in progress, frozen): the counts are still reset for resources seen fine."""
    resets = []
    for w in resources:
        mark = marks.resources.get(w.rid)
        if w.status in FINE and mark is not None and (mark.attempts or mark.reported):
            resets.append(w.rid)
    rearm = bool(resets)
    if quiet is not None:
        return Plan(resets=tuple(resets), skipped=quiet)
    restarts, reports = [], []
    action_rid = action_reason = None
    acted = marks.action is not None and not rearm
    for w in resources:
        if w.status in FINE or not (started or w.standby):
            continue
        mark = marks.resources.get(w.rid) or Mark()
        if w.restartable and mark.attempts < w.restart:
            not_before = now if mark.last_at is None else max(now, mark.last_at + w.restart_delay)
            restarts.append(Restart(w.rid, not_before, mark.attempts + 1, w.restart))
        elif w.monitored:
            if not acted and action_rid is None:
                action_rid, action_reason = w.rid, failure_reason(w, mark.attempts)
        elif not mark.reported:
            why = f" ({w.reason})" if w.reason else ""
            left = (f"its {w.restart} restart attempt(s) failed" if w.restart and w.restartable
                    else "no restart configured")
            reports.append((w.rid, f"{w.rid} is {w.status}{why}: not monitored and {left}: "
                                   "reported only"))
    return Plan(resets=tuple(resets), restarts=tuple(restarts), action_rid=action_rid,
                action_reason=action_reason, reports=tuple(reports))


def apply_resets(marks: Marks, plan_: Plan) -> None:
    """Seen fine again: counts back to zero and the monitor action re-armed (om3)."""
    for rid in plan_.resets:
        marks.resources.pop(rid, None)
    if plan_.resets:
        marks.action = marks.action_reason = None


def next_action(actions: tuple[str, ...], stage: int) -> str | None:
    """The monitor action of a stage (0: the first; 1: the fallback when its stop failed)."""
    return actions[stage] if stage < len(actions) else None
