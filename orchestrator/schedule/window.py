"""The "window" kind: OpenSVC's networker-style grammar as a Schedule."""

from __future__ import annotations

from datetime import datetime, tzinfo

from . import splay as _splay
from .base import Schedule
from .window_eval import WindowRule, from_abs, occurrence_bounds, to_abs
from .window_parse import DAY_SECONDS, Member


class WindowSchedule(Schedule):
    """Allowed instants per conformance README 3.1; ``~`` runs splayed by ``splay_key``."""

    kind = "window"

    def __init__(
        self, text: str, members: tuple[Member, ...], zone: tzinfo, splay_key: str | None = None
    ) -> None:
        super().__init__(text, zone)
        self.members = members
        self.rule = WindowRule(members)
        self.splay_key = splay_key
        self.has_tilde = any(e.tilde for m in members if not m.exclude for e in m.elements)

    def window(
        self, now: datetime, last: datetime | None = None
    ) -> tuple[datetime, datetime] | None:
        """README 3.4 (window_start, window_end) on naive wall times, or None."""
        start = to_abs(now) + (1 if now.microsecond else 0)
        last_abs = to_abs(last) if last is not None else None
        ws = self.rule.next_allowed(start, last_abs)
        if ws is None:
            return None
        we, _ = self.rule.window_end(ws, last_abs)
        return from_abs(ws), from_abs(we)

    def _due_wall(self, now: datetime, last: datetime | None) -> bool:
        return self.rule.allowed(to_abs(now), to_abs(last) if last is not None else None)

    def _next_wall(
        self, start: datetime, last: datetime | None, splay: bool = True
    ) -> datetime | None:
        floor = to_abs(start)
        last_abs = to_abs(last) if last is not None else None
        exact = False
        if start.microsecond:
            exact = self.rule.allowed(floor, last_abs)
            ws = floor if exact else self.rule.next_allowed(floor + 1, last_abs)
        else:
            ws = self.rule.next_allowed(floor, last_abs)
        if ws is None:
            return None
        if splay and self.has_tilde and self.splay_key is not None:
            we, element = self.rule.window_end(ws, last_abs)
            if element is not None and element.tilde:
                day, tod = divmod(ws, DAY_SECONDS)
                occ_start, occ_end = occurrence_bounds(element, day, tod)
                t = _splay.target(self.splay_key, element.text, occ_start, occ_end, ws, we)
                if t > ws:
                    return from_abs(t)
        return start if exact else from_abs(ws)
