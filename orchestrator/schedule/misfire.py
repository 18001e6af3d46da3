"""Missed runs: a pure decision the daemon takes when it gets to a slot late.

``decide`` lists the schedule's slots between the one the daemon was waiting for (``due``) and
``now``, then applies the policy:

* ``once`` (OpenSVC's behaviour): whatever was missed, run once now, for the latest slot; the
  earlier slots are coalesced into it. ``grace`` only changes the wording: a run is never lost.
* ``skip``: run the latest slot only if it is at most ``grace`` late (None = no limit); the
  earlier, superseded slots are skipped, and so is a latest slot beyond grace.

A missed slot is never silent: every decision carries the count, the slots and a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from .base import Schedule

Policy = Literal["once", "skip"]
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class MisfireDecision:
    """What to do now. ``slot`` is the slot the run is for (None when not running)."""

    run: bool
    slot: datetime | None
    missed: tuple[datetime, ...]  # slots not run (at most ``listed`` of them)
    missed_count: int  # how many slots were not run; a lower bound when ``truncated``
    truncated: bool
    reason: str


def decide(
    schedule: Schedule,
    *,
    due: datetime,
    now: datetime,
    last: datetime | None = None,
    policy: Policy = "once",
    grace: timedelta | None = None,
    cause: str = "while the job could not run",
    listed: int = 20,
    limit: int = 10000,
) -> MisfireDecision:
    """Decide whether to run the slot ``due`` (or a later one) at ``now``.

    ``last`` is the last run before ``due`` (only used in the sentence); ``cause`` explains
    why slots were missed, e.g. "while no node could run the job".
    """
    if policy not in ("once", "skip"):
        raise ValueError(f"invalid misfire policy {policy!r}: expected 'once' or 'skip'")
    if now < due:
        return MisfireDecision(False, None, (), 0, False, f"not due until {_t(due)}")
    slots, truncated = _slots(schedule, due, now, limit)
    latest, earlier = slots[-1], slots[:-1]
    late = now - latest
    stale = grace is not None and late > grace
    ran = f"; last run {_t(last)}" if last is not None else ""

    if not earlier and not stale:
        how = (
            "on time"
            if late < _SECOND
            else f"{_d(late)} late" + (f", within grace {_d(grace)}" if grace is not None else "")
        )
        return MisfireDecision(True, latest, (), 0, False, f"due at {_t(latest)}; running ({how})")

    if policy == "once":
        missed = tuple(earlier)
        count = len(missed)
        parts = []
        if count:
            parts.append(f"missed {_n(count, truncated)} {_span(missed)} {cause}")
        if stale:
            parts.append(f"slot {_t(latest)} is {_d(late)} late, beyond grace {_d(grace)}")
        reason = "; ".join(parts) + f"{ran}; running once for slot {_t(latest)} (misfire=once)"
        return MisfireDecision(True, latest, missed[:listed], count, truncated, reason)

    # skip
    if stale:
        missed = tuple(slots)
        nxt = schedule.next_run(now, latest)
        after = f"; next slot {_t(nxt)}" if nxt is not None else "; no further slot"
        reason = (
            f"missed {_n(len(missed), truncated)} {_span(missed)} {cause}; the latest is "
            f"{_d(late)} late, beyond grace {_d(grace)}{ran}; skipping (misfire=skip){after}"
        )
        return MisfireDecision(False, None, missed[:listed], len(missed), truncated, reason)
    missed = tuple(earlier)
    reason = (
        f"missed {_n(len(missed), truncated)} {_span(missed)} {cause}{ran}; skipped them "
        f"(misfire=skip); running slot {_t(latest)}"
    )
    return MisfireDecision(True, latest, missed[:listed], len(missed), truncated, reason)


def _slots(schedule: Schedule, due: datetime, now: datetime, limit: int) -> tuple[list, bool]:
    """Slots in [due, now], each found as if the job had run at the previous one."""
    slots = [due]
    while len(slots) < limit:
        nxt = schedule.next_run(slots[-1] + _SECOND, slots[-1])
        if nxt is None or nxt > now:
            return slots, False
        slots.append(nxt)
    return slots, True


def _t(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def _d(td: timedelta) -> str:
    seconds = int(td.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def _n(count: int, truncated: bool) -> str:
    word = "slot" if count == 1 else "slots"
    return f"at least {count} {word}" if truncated else f"{count} {word}"


def _span(slots: tuple[datetime, ...]) -> str:
    if not slots:
        return ""
    if len(slots) == 1:
        return f"({_t(slots[0])})"
    return f"({_t(slots[0])} .. {_t(slots[-1])})"
