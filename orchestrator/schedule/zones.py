"""Time zones and the DST policy: wall-clock schedule math mapped to real instants.

Schedules are wall-clock rules, so every kind computes on naive wall times of its zone. This
module converts at the edges and applies one policy:

* spring forward: a wall time skipped by the gap runs at the next valid instant, the end of the
  gap (a 02:30 job in America/New_York runs at 03:00 EDT on that day);
* fall back: the repeated wall times run once, in their first pass. The second pass is a replay
  of wall times already seen, so nothing is due during it and searches resume at the wall time
  that ends the fold (interval jobs therefore pause for the length of the shift: 1 h, or 30 min
  on Australia/Lord_Howe).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ScheduleError

_US = timedelta(microseconds=1)
_S = timedelta(seconds=1)


def resolve_zone(tz: str | tzinfo | None) -> tzinfo:
    """An IANA name or tzinfo; None is the process's local zone."""
    if tz is None:
        return local_zone()
    if isinstance(tz, tzinfo):
        return tz
    if isinstance(tz, str):
        return _named_zone(tz)
    raise ScheduleError(f"invalid time zone {tz!r}: expected an IANA name or a tzinfo")


@lru_cache(maxsize=64)
def _named_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name!r}") from exc


@lru_cache(maxsize=1)
def local_zone() -> tzinfo:
    """The process's local zone as a DST-aware tzinfo (TZ, then /etc/localtime), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    real = os.path.realpath("/etc/localtime")
    if "zoneinfo/" in real:
        candidates.append(real.split("zoneinfo/", 1)[1])
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    if os.path.exists("/etc/localtime"):
        with open("/etc/localtime", "rb") as fh:
            return ZoneInfo.from_file(fh, key="localtime")
    return UTC


def has_transitions(zone: tzinfo) -> bool:
    """False for zones with a fixed offset (UTC, datetime.timezone), which skip DST handling."""
    return not isinstance(zone, timezone) and getattr(zone, "key", None) not in ("UTC", "Etc/UTC")


def _offset(zone: tzinfo, utc_naive: datetime) -> timedelta:
    return zone.utcoffset(utc_naive.replace(tzinfo=UTC).astimezone(zone))


def _transition(zone: tzinfo, lo: datetime, hi: datetime) -> datetime:
    """First UTC (naive) instant in (lo, hi] whose offset differs from lo's, to the second."""
    before = _offset(zone, lo)
    while hi - lo > _S:
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            mid = lo + _S
        if _offset(zone, mid) == before:
            lo = mid
        else:
            hi = mid
    return hi


def is_gap(zone: tzinfo, wall: datetime) -> bool:
    """True when the naive wall time does not exist in the zone (spring-forward gap)."""
    aware = wall.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0)
    return back != wall.replace(fold=0)


def gap_bounds(zone: tzinfo, wall: datetime) -> tuple[datetime, datetime]:
    """(first skipped wall time, first wall time after the gap) around a nonexistent wall time."""
    off_before = zone.utcoffset(wall.replace(tzinfo=zone, fold=0))
    off_after = zone.utcoffset(wall.replace(tzinfo=zone, fold=1))
    naive = wall.replace(fold=0, tzinfo=None)
    lo, hi = naive - off_after, naive - off_before  # the transition lies in (lo, hi]
    t = _transition(zone, lo - _S, hi)
    return t + off_before, t + off_after


def fold_end(zone: tzinfo, aware_local: datetime) -> datetime:
    """Wall time ending the repeated range that contains a second-pass (fold=1) aware time."""
    wall = aware_local.replace(tzinfo=None, fold=0)
    off_first = zone.utcoffset(wall.replace(tzinfo=zone, fold=0))
    off_second = zone.utcoffset(wall.replace(tzinfo=zone, fold=1))
    utc = aware_local.astimezone(UTC).replace(tzinfo=None)
    t = _transition(zone, utc - (off_first - off_second) - _S, utc)
    return t + off_first


class Clock:
    """Conversion of one call's datetimes between the caller's form and the zone's wall clock.

    ``start`` is the wall time a search starts from and ``due_floor`` a wall time from which
    runs skipped by a gap that ends exactly at ``now`` are still due (None otherwise).
    """

    __slots__ = ("zone", "now", "aware", "start", "gap_from", "replay", "dst")

    def __init__(self, zone: tzinfo, now: datetime) -> None:
        self.zone = zone
        self.now = now
        self.aware = now.tzinfo is not None
        self.dst = has_transitions(zone)
        self.gap_from: datetime | None = None
        self.replay = False
        if not self.dst:
            self.start = self.wall(now)
            return
        if self.aware:
            local = now.astimezone(zone)
            self.start = local.replace(tzinfo=None, fold=0)
            if local.fold and zone.utcoffset(local) != zone.utcoffset(local.replace(fold=0)):
                self.replay = True
                self.start = fold_end(zone, local)
            elif zone.utcoffset(now - _US) < zone.utcoffset(now):
                # now is exactly the end of a spring-forward gap: skipped times are due now
                self.gap_from = self.start - (zone.utcoffset(now) - zone.utcoffset(now - _US))
        else:
            self.start = now.replace(fold=0)
            if is_gap(zone, self.start):
                self.gap_from, self.start = gap_bounds(zone, self.start)
            elif is_gap(zone, self.start - _S):
                g0, g1 = gap_bounds(zone, self.start - _S)
                if g1 == self.start:
                    self.gap_from = g0

    def wall(self, dt: datetime) -> datetime:
        """A datetime as a naive wall time of the zone (naive ones are already wall times)."""
        if dt.tzinfo is None:
            return dt.replace(fold=0)
        if not self.dst and self.zone is UTC:
            return dt.astimezone(UTC).replace(tzinfo=None)
        return dt.astimezone(self.zone).replace(tzinfo=None, fold=0)

    def out(self, wall: datetime) -> datetime:
        """A wall time result as the caller's form; skipped times move to the end of the gap."""
        if self.dst and is_gap(self.zone, wall):
            wall = gap_bounds(self.zone, wall)[1]
        if wall == self.start and not self.replay and self.gap_from is None:
            return self.now
        if not self.aware:
            return wall
        result = wall.replace(tzinfo=self.zone, fold=0)
        return result.astimezone(self.now.tzinfo)
