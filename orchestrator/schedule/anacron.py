"""The "anacron" kind: ``anacron PERIOD [DELAY]``, once per period, DELAY after it is due.

* PERIOD is a duration ("1d", "12h", "1w2d") or a calendar period (@daily, @weekly,
  @monthly, @yearly/@annually); DELAY is a duration (default 0).
* Duration periods: due at ``last + PERIOD + DELAY``. A job that never ran has "always been
  due", so it is due immediately (the delay is counted from when it became due, long ago).
* Calendar periods (anacron's own rule: "did it run this calendar day/week/month/year?"):
  the period containing ``now`` starts at S (00:00, Monday 00:00 ISO week, the 1st, Jan 1st).
  If the job has not run since S (or never ran) it is due at ``S + DELAY``, else at
  ``next S + DELAY``.
* Both are pure functions of (now, last): repeated calls with an advancing clock agree.
Durations add wall-clock time of the schedule's zone, like every other kind.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from .base import Schedule
from .durations import parse_duration
from .errors import ScheduleError

CALENDAR = {
    "@daily": "day",
    "@weekly": "week",
    "@monthly": "month",
    "@yearly": "year",
    "@annually": "year",
}

# the shortest length of each calendar period: a delay must fit inside every occurrence
_SHORTEST = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=28),
    "year": timedelta(days=365),
}


def looks_like_anacron(text: str) -> bool:
    """The text starts with the word "anacron"."""
    words = text.split()
    return bool(words) and words[0].lower() == "anacron"


def period_start(now: datetime, unit: str) -> datetime:
    """Start of the calendar day/week/month/year containing ``now``."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "year":
        return day.replace(month=1, day=1)
    return day


def next_period_start(start: datetime, unit: str) -> datetime:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start.replace(year=start.year + 1)


class AnacronSchedule(Schedule):
    kind = "anacron"

    def __init__(self, text: str, zone: tzinfo) -> None:
        super().__init__(text, zone)
        words = text.split()
        if len(words) not in (2, 3):
            raise ScheduleError(
                f"invalid anacron schedule {text!r}: expected 'anacron PERIOD [DELAY]', "
                "e.g. 'anacron 1d' or 'anacron @monthly 10m'"
            )
        period = words[1]
        self.unit: str | None = CALENDAR.get(period.lower())
        self.period: timedelta | None = None
        if self.unit is None:
            try:
                self.period = parse_duration(period)
            except ScheduleError as exc:
                raise ScheduleError(
                    f"invalid period {period!r} in anacron schedule {text!r}: "
                    "expected @daily, @weekly, @monthly, @yearly or a duration such as '1d'"
                ) from exc
            if not self.period:
                raise ScheduleError(f"invalid period {period!r} in anacron schedule {text!r}: zero")
        self.delay = timedelta(0)
        if len(words) == 3:
            try:
                self.delay = parse_duration(words[2])
            except ScheduleError as exc:
                raise ScheduleError(
                    f"invalid delay {words[2]!r} in anacron schedule {text!r}: {exc}"
                ) from exc
        shortest = self.period or _SHORTEST[self.unit]
        if self.delay >= shortest:
            raise ScheduleError(
                f"invalid delay {words[2]!r} in anacron schedule {text!r}: "
                f"it must be shorter than the period ({shortest})"
            )

    def due_time(self, now: datetime, last: datetime | None) -> datetime:
        """The wall time at which the job is (or became) due; may be before ``now``."""
        if self.unit is None:
            if last is None:
                return now
            return last + self.period + self.delay
        start = period_start(now, self.unit)
        if last is None or last < start:
            return start + self.delay
        return next_period_start(start, self.unit) + self.delay

    def _next_wall(
        self, start: datetime, last: datetime | None, splay: bool = True
    ) -> datetime | None:
        return max(start, self.due_time(start, last))
