"""Evaluation of parsed windows: the per-instant rule, the next allowed instant, ``~`` windows.

Instants are whole seconds counted from 0001-01-01 00:00:00 of the naive wall clock
("abs seconds"): integer arithmetic keeps the rule exact and fast. The next instant is found by
testing only the candidates where "allowed" can switch from false to true (README 3.2): now,
last + interval, each day's midnight, include window starts and exclusion ends + 1 s; days whose
calendar matches no include member are skipped whole.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache

from .window_parse import DAY_SECONDS, Element, Member

HORIZON_DAYS = 1096
_EPOCH = datetime(1, 1, 1)


def to_abs(dt: datetime) -> int:
    """Whole seconds of a naive datetime since 0001-01-01 (microseconds dropped)."""
    return dt.toordinal() * DAY_SECONDS + dt.hour * 3600 + dt.minute * 60 + dt.second


def from_abs(value: int) -> datetime:
    day, tod = divmod(value, DAY_SECONDS)
    return datetime.fromordinal(day) + timedelta(seconds=tod)


@lru_cache(maxsize=8192)
def day_info(ordinal: int) -> tuple[int, int, int, int, int]:
    """(month, ISO week, weekday 0=Monday, day of month, days in month) of a date ordinal."""
    d = date.fromordinal(ordinal)
    return d.month, d.isocalendar()[1], d.weekday(), d.day, calendar.monthrange(d.year, d.month)[1]


class WindowRule:
    """The allowed-instant rule of one definition (README 3.1) and its searches."""

    __slots__ = ("members", "includes", "excludes", "static_offsets", "include_elements", "live")

    def __init__(self, members: tuple[Member, ...]) -> None:
        self.members = members
        self.includes = tuple(m for m in members if not m.exclude)
        self.excludes = tuple(m for m in members if m.exclude)
        self.include_elements = tuple(e for m in self.includes for e in m.elements)
        # an include member can only ever allow something if one of its elements has interval > 0
        self.live = any(e.interval > 0 for e in self.include_elements)
        offsets = {0}
        offsets.update(e.start for e in self.include_elements if e.interval > 0)
        offsets.update(
            e.end + 1 for m in self.excludes for e in m.elements if e.end + 1 < DAY_SECONDS
        )
        self.static_offsets = tuple(sorted(offsets))

    # ------------------------------------------------------------ per instant

    def allowed(self, t: int, last: int | None) -> bool:
        day, tod = divmod(t, DAY_SECONDS)
        info = day_info(day)
        return self._allowed(t, tod, info, last, self.includes)

    def _allowed(self, t, tod, info, last, includes) -> bool:
        ok = False
        for m in includes:
            if not m.matches_date(*info):
                continue
            for e in m.elements:
                if e.interval > 0 and e.contains(tod) and (last is None or t >= last + e.interval):
                    ok = True
                    break
            if ok:
                break
        if not ok:
            return False
        for m in self.excludes:
            if m.matches_date(*info) and any(e.contains(tod) for e in m.elements):
                return False
        return True

    def passing_elements(self, t: int, last: int | None) -> list[Element]:
        """Include elements that contain t on a matching date and pass their interval check."""
        day, tod = divmod(t, DAY_SECONDS)
        info = day_info(day)
        return [
            e
            for m in self.includes
            if m.matches_date(*info)
            for e in m.elements
            if e.interval > 0 and e.contains(tod) and (last is None or t >= last + e.interval)
        ]

    # ------------------------------------------------------------ searches

    def next_allowed(
        self, now: int, last: int | None, horizon_days: int = HORIZON_DAYS
    ) -> int | None:
        """Smallest allowed t with now <= t <= now + horizon, or None."""
        if not self.live:
            return None
        limit = now + horizon_days * DAY_SECONDS
        dynamic = []
        if last is not None:
            dynamic = sorted({last + e.interval for e in self.include_elements if e.interval > 0})
        day = now // DAY_SECONDS
        last_day = limit // DAY_SECONDS
        while day <= last_day:
            info = day_info(day)
            includes = [m for m in self.includes if m.matches_date(*info)]
            if includes:
                base = day * DAY_SECONDS
                cands = {base + off for off in self.static_offsets}
                cands.add(now)
                cands.update(c for c in dynamic if base <= c < base + DAY_SECONDS)
                for t in sorted(cands):
                    if t < now or t < base or t >= base + DAY_SECONDS:
                        continue
                    if t > limit:
                        return None
                    if self._allowed(t, t - base, info, last, includes):
                        return t
            day += 1
        return None

    def window_end(self, start: int, last: int | None) -> tuple[int, Element | None]:
        """Last second of the ``~`` window containing the allowed instant ``start`` (README 3.4).

        Returns (end, element): the occurrence of the passing element that ends latest, cut
        short where the run of consecutive allowed seconds stops.
        """
        day, tod = divmod(start, DAY_SECONDS)
        best_end, best = start, None
        for e in self.passing_elements(start, last):
            end = occurrence_bounds(e, day, tod)[1]
            if best is None or end > best_end:
                best_end, best = end, e
        # allowed can only switch to false at a midnight, an include end + 1 or an exclusion start
        offsets = {0}
        offsets.update(e.end + 1 for e in self.include_elements if e.end + 1 < DAY_SECONDS)
        offsets.update(e.start for m in self.excludes for e in m.elements)
        ordered = sorted(offsets)
        for d in range(day, best_end // DAY_SECONDS + 1):
            base = d * DAY_SECONDS
            for off in ordered:
                t = base + off
                if start < t <= best_end and not self.allowed(t, last):
                    return t - 1, best
        return best_end, best


def occurrence_bounds(e: Element, day: int, tod: int) -> tuple[int, int]:
    """Abs (start, end) of the occurrence of element e that contains time-of-day tod on day."""
    base = day * DAY_SECONDS
    if not e.wraps:
        return base + e.start, base + e.end
    if tod >= e.start:
        return base + e.start, base + DAY_SECONDS + e.end
    return base - DAY_SECONDS + e.start, base + e.end
