"""OpenSVC's status words and how resource statuses merge into an instance's avail/overall."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    UP = "up"
    DOWN = "down"
    WARN = "warn"
    NA = "n/a"
    STDBY_UP = "stdby up"
    STDBY_DOWN = "stdby down"
    UNDEF = "undef"


_PAIRS: dict[frozenset[Status], Status] = {
    frozenset({Status.UP, Status.DOWN}): Status.WARN,
    frozenset({Status.UP, Status.STDBY_UP}): Status.UP,
    frozenset({Status.UP, Status.STDBY_DOWN}): Status.WARN,
    frozenset({Status.DOWN, Status.STDBY_UP}): Status.STDBY_UP,
    frozenset({Status.DOWN, Status.STDBY_DOWN}): Status.DOWN,
    frozenset({Status.STDBY_UP, Status.STDBY_DOWN}): Status.WARN,
}


def as_standby(standby: bool, status: Status) -> Status:
    """A standby resource's up/down read stdby up / stdby down (OpenSVC's words)."""
    if not standby:
        return status
    return {Status.UP: Status.STDBY_UP, Status.DOWN: Status.STDBY_DOWN}.get(status, status)


def merge_pair(a: Status, b: Status) -> Status:
    """OpenSVC's rules: up+down=warn, x+n/a=x, up+stdby up=up, down+stdby up=stdby up."""
    if a == b:
        return a
    for neutral in (Status.UNDEF, Status.NA):
        if a == neutral:
            return b
        if b == neutral:
            return a
    if Status.WARN in (a, b):
        return Status.WARN
    return _PAIRS[frozenset({a, b})]


def merge(statuses: Iterable[Status]) -> Status:
    """Merge many statuses; nothing to merge is n/a."""
    result = Status.NA
    for s in statuses:
        result = merge_pair(result, s)
    return result


def failover_avail(instance_avails: Iterable[Status]) -> Status:
    """A failover service is up when exactly one instance is up, warn when more, else down."""
    ups = sum(1 for s in instance_avails if s == Status.UP)
    if ups == 1:
        return Status.UP
    return Status.WARN if ups > 1 else Status.DOWN
