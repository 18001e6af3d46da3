"""``explain``: the next run times of a definition and a sentence saying why (not) now.

Backs ``nodemgr schedule explain``. Successive ``next`` values assume the job ran at each one
(last = that time) and search again from one second after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from .anacron import AnacronSchedule
from .base import Schedule
from .detect import Definition, parse
from .window import WindowSchedule
from .window_eval import day_info, to_abs
from .window_parse import DAY_SECONDS, Member

_SECOND = timedelta(seconds=1)


def explain(
    text_or_list: Definition,
    *,
    now: datetime,
    last: datetime | None = None,
    count: int = 5,
    tz: str | tzinfo | None = None,
    splay_key: str | None = None,
) -> dict:
    """A JSON-ready dict: expression, kind, timezone, due_now, next (ISO 8601 with offset),
    description and reason. Raises ScheduleError for an invalid definition."""
    sched = parse(text_or_list, tz=tz, splay_key=splay_key)
    times: list[datetime] = []
    cur_now, cur_last = now, last
    for _ in range(max(count, 0)):
        t = sched.next_run(cur_now, cur_last)
        if t is None:
            break
        times.append(t)
        cur_now, cur_last = t + _SECOND, t
    due = sched.is_due(now, last)
    first = times[0] if times else None
    return {
        "expression": sched.text,
        "kind": sched.kind,
        "timezone": getattr(sched.zone, "key", None) or str(sched.zone),
        "now": _iso(sched, now),
        "last": _iso(sched, last) if last is not None else None,
        "due_now": due,
        "next": [_iso(sched, t) for t in times],
        "description": describe(sched),
        "reason": _reason(sched, now, last, due, first),
    }


def _iso(sched: Schedule, dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=sched.zone)
    return dt.isoformat(timespec="seconds")


def describe(sched: Schedule) -> str:
    """A plain-words description of the definition."""
    if isinstance(sched, WindowSchedule):
        return "; ".join(_describe_member(m) for m in sched.members)
    if isinstance(sched, AnacronSchedule):
        period = sched.text.split()[1]
        delay = f", {sched.text.split()[2]} after it becomes due" if sched.delay else ""
        unit = sched.unit or period
        return f"once per {unit}{delay}, counted from the last run (anacron)"
    return f"cron expression {sched.text!r} (minute hour day-of-month month day-of-week [second])"


def _describe_member(m: Member) -> str:
    fields = m.text.strip().lstrip("!").split()
    parts = []
    for e in m.elements:
        every = f" every {_dur(e.interval)}" if e.interval else " never (interval 0)"
        if m.exclude:
            every = ""
        splay = " (random point, splayed)" if e.tilde else ""
        parts.append(f"{e.text.lstrip('~').split('@')[0] or '*'}{every}{splay}")
    text = ("exclude " if m.exclude else "run in ") + ", ".join(parts)
    names = ("days", "weeks", "months")
    for name, value in zip(names, fields[1:], strict=False):
        text += f", {name} {value}"
    return text


def _reason(
    sched: Schedule, now: datetime, last: datetime | None, due: bool, first: datetime | None
) -> str:
    nxt = f"next run at {_iso(sched, first)}" if first is not None else "no run within 1096 days"
    if due:
        return f"due now; {nxt}"
    if isinstance(sched, WindowSchedule):
        why = _window_why(sched, now, last)
    elif isinstance(sched, AnacronSchedule):
        why = f"already ran at {_iso(sched, last)} this period" if last is not None else "not due"
    else:
        why = "now is not a cron fire time" + (
            f" after the last run ({_iso(sched, last)})" if last is not None else ""
        )
    return f"not due: {why}; {nxt}"


def _window_why(sched: WindowSchedule, now: datetime, last: datetime | None) -> str:
    """The first failing condition of README 3.1 at now, in words."""
    from .zones import Clock

    clock = Clock(sched.zone, now)
    if clock.replay:
        return "this wall time repeats after a DST fall-back and already ran in its first pass"
    wall = clock.start
    last_w = clock.wall(last) if last is not None else None
    t = to_abs(wall)
    day, tod = divmod(t, DAY_SECONDS)
    info = day_info(day)
    rule = sched.rule
    if not rule.live:
        return "no include expression has a non-zero interval"
    dated = [m for m in rule.includes if m.matches_date(*info)]
    if not dated:
        fields = sorted({" ".join(m.text.split()[1:]) for m in rule.includes} - {""})
        return f"{wall.date()} is not in the allowed days/weeks/months ({'; '.join(fields)})"
    inside = [e for m in dated for e in m.elements if e.interval > 0 and e.contains(tod)]
    if not inside:
        windows = ", ".join(e.text for m in dated for e in m.elements)
        return f"{wall.time()} is outside the time windows ({windows})"
    if last_w is not None and not rule.passing_elements(t, to_abs(last_w)):
        gaps = ", ".join(f"{e.text}: {_dur(e.interval)}" for e in inside)
        return f"the interval since the last run ({last_w}) has not elapsed ({gaps})"
    for m in rule.excludes:
        if m.matches_date(*info) and any(e.contains(tod) for e in m.elements):
            return f"excluded by {m.text.strip()!r}"
    return "not allowed"


def _dur(seconds: int) -> str:
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out) or "0s"
