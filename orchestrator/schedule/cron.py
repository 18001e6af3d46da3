"""The "cron" kind: 5-field cron, 6 fields with seconds LAST (croniter's convention), macros.

Fields: ``minute hour day-of-month month day-of-week [second]``. Macros: @hourly @daily
@midnight @weekly @monthly @yearly @annually. Evaluation is croniter's on naive wall times;
the DST policy is applied by ``zones`` around it.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, tzinfo

from croniter import CroniterBadDateError, CroniterError, croniter

from .base import Schedule
from .errors import ScheduleError

MACROS = frozenset(
    {"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"}
)
_FIELD = re.compile(r"[0-9A-Za-z*/,?#-]+")
_SECOND = timedelta(seconds=1)
_ITERATORS = threading.local()
_ITERATORS_KEPT = 4096


def looks_like_cron(text: str) -> bool:
    """A named macro, or 5-6 blank-separated fields made only of cron characters.

    Window expressions have at most 4 fields and their fields carry ':', '@', '%', '~' or '!',
    none of which is a cron character, so the two grammars cannot be confused.
    """
    body = text.strip()
    if body.lower() in MACROS:
        return True
    fields = body.split()
    return len(fields) in (5, 6) and all(_FIELD.fullmatch(f) for f in fields)


class CronSchedule(Schedule):
    """next_run(now, last) = earliest fire time t with t >= now and t > last."""

    kind = "cron"

    def __init__(self, text: str, zone: tzinfo) -> None:
        super().__init__(text, zone)
        body = text.strip()
        self.expr = body.lower() if body.lower() in MACROS else " ".join(body.split())
        try:
            croniter(self.expr, datetime(2000, 1, 1))
        except (CroniterError, ValueError, KeyError) as exc:
            raise ScheduleError(f"invalid cron expression {text!r}: {exc}") from exc

    def _iterator(self, base: datetime) -> croniter:
        """A parsed croniter moved to ``base``: parsing is 2/3 of a croniter call and the
        daemon computes thousands of next runs a minute. One per expression and thread
        (expressions repeat across services: memory follows the distinct ones)."""
        cache = getattr(_ITERATORS, "by_expr", None)
        if cache is None:
            cache = _ITERATORS.by_expr = {}
        it = cache.get(self.expr)
        if it is None:
            if len(cache) >= _ITERATORS_KEPT:
                cache.clear()
            it = cache[self.expr] = croniter(self.expr, base)
        else:
            it.set_current(base, force=True)
        return it

    def _next_wall(
        self, start: datetime, last: datetime | None, splay: bool = True
    ) -> datetime | None:
        floor = start.replace(microsecond=0)
        base = floor - _SECOND
        if last is not None and last > base:
            base = last
        try:
            fire = self._iterator(base).get_next(datetime)
        except CroniterBadDateError:
            return None
        return start if fire == floor else fire
