"""The Schedule interface shared by the three kinds, with the zone handling done once here.

Each kind implements two wall-clock functions, ``_next_wall`` and ``_due_wall``; this class
converts the caller's naive or aware datetimes to the zone's wall clock and back, applying the
DST policy of ``zones``.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from .zones import Clock


class Schedule:
    """A parsed schedule. ``kind`` is "window", "cron" or "anacron"; ``text`` the definition."""

    kind: str = ""

    def __init__(self, text: str, zone: tzinfo) -> None:
        self.text = text
        self.zone = zone

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {self.text!r}>"

    def next_run(self, now: datetime, last: datetime | None = None) -> datetime | None:
        """Earliest t >= now at which the job is due given its last run, or None."""
        clock = Clock(self.zone, now)
        last_w = clock.wall(last) if last is not None else None
        wall = self._next_wall(clock.gap_from or clock.start, last_w)
        if wall is None:
            return None
        if wall < clock.start:
            wall = clock.start  # a run skipped by the gap that ends exactly now
        return clock.out(wall)

    def is_due(self, now: datetime, last: datetime | None = None) -> bool:
        """Whether a run may start at ``now`` (windows: the conformance rule, without splay)."""
        clock = Clock(self.zone, now)
        if clock.replay:
            return False
        last_w = clock.wall(last) if last is not None else None
        if clock.gap_from is not None:
            wall = self._next_wall(clock.gap_from, last_w, splay=False)
            return wall is not None and wall <= clock.start
        return self._due_wall(clock.start, last_w)

    # -- per kind, on naive wall times of self.zone
    def _next_wall(
        self, start: datetime, last: datetime | None, splay: bool = True
    ) -> datetime | None:
        raise NotImplementedError

    def _due_wall(self, now: datetime, last: datetime | None) -> bool:
        return self._next_wall(now, last, splay=False) == now
