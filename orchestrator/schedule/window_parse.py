"""Parser of the OpenSVC "networker-style" window grammar into immutable structures.

The grammar and its strictness are those of /work/shared/conformance/README.md: validity is
all-or-nothing, and lenient forms the reference implementation accepted by accident (empty list
items, 1-digit minutes, seconds >= 60, junk intervals, signed numbers, names in the wrong field,
out-of-range numbers, upper-case ordinals) are rejected with a message naming field and token.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .durations import unit_seconds
from .errors import ScheduleError, Unscheduled

DAY_SECONDS = 86400
STAR_END = 23 * 3600 + 59 * 60  # a plain "*" window stops at 23:59:00

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
    "5th": 5,
    "last": -1,
}
_DAY_NAMES = {
    **{n: i for i, n in enumerate(WEEKDAYS)},
    **{n[:3]: i for i, n in enumerate(WEEKDAYS)},
}
_MONTH_NAMES = {
    **{n: i + 1 for i, n in enumerate(MONTHS)},
    **{n[:3]: i + 1 for i, n in enumerate(MONTHS)},
}
_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
_NUMBER = re.compile(r"[0-9]+")
_MONTHDAY = re.compile(r"([+-]?)([0-9]+)")
_MODULO = re.compile(r"([0-9]+)(?:\+([0-9]+))?")


@dataclass(frozen=True, slots=True)
class Element:
    """One time-range element: a daily window [start, end] (wrapping when start > end)."""

    start: int
    end: int
    interval: int
    tilde: bool
    text: str

    @property
    def wraps(self) -> bool:
        return self.start > self.end

    def contains(self, tod: int) -> bool:
        if self.start <= self.end:
            return self.start <= tod <= self.end
        return tod >= self.start or tod <= self.end


@dataclass(frozen=True, slots=True)
class DayAtom:
    """Weekdays (0 = Monday) and an optional day of month (N > 0, or -N counted from the end)."""

    weekdays: frozenset[int]
    monthday: int | None


@dataclass(frozen=True, slots=True)
class Member:
    """One expression of a definition; ``None`` calendar fields mean "any"."""

    exclude: bool
    elements: tuple[Element, ...]
    days: tuple[DayAtom, ...] | None
    weeks: frozenset[int] | None
    months: frozenset[int] | None
    text: str

    def matches_date(self, month: int, week: int, weekday: int, day: int, dim: int) -> bool:
        if self.months is not None and month not in self.months:
            return False
        if self.weeks is not None and week not in self.weeks:
            return False
        if self.days is None:
            return True
        for atom in self.days:
            if weekday not in atom.weekdays:
                continue
            md = atom.monthday
            if md is None or day == (md if md > 0 else dim + 1 + md):
                return True
        return False


def decode(definition: object) -> list[str]:
    """Turn a string (JSON-decoded when it is valid JSON) or a list into member strings.

    Raises Unscheduled for the "no schedule" values and ScheduleError for other JSON.
    """
    value = definition
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = definition
    if value is None:
        raise Unscheduled("no schedule: the definition is null")
    if isinstance(value, str):
        if value.strip() in ("", "@0"):
            raise Unscheduled(f"no schedule: the definition is {value!r} (never run)")
        return [value]
    if isinstance(value, (list, tuple)):
        if not value:
            raise Unscheduled("no schedule: the definition is an empty list")
        for item in value:
            if not isinstance(item, str):
                raise ScheduleError(
                    f"invalid member {item!r} in schedule list {definition!r}: members are strings"
                )
        return list(value)
    raise ScheduleError(
        f"invalid schedule {definition!r}: expected an expression or a list of expressions, "
        f"not a JSON {type(value).__name__}"
    )


def parse_members(members: list[str]) -> tuple[Member, ...]:
    """Parse every member; the first invalid one invalidates the whole definition."""
    return tuple(parse_member(m) for m in members)


def parse_member(text: str) -> Member:
    body = text.strip()
    exclude = body.startswith("!")
    if exclude:
        body = body[1:].strip()
    if not body:
        raise ScheduleError(
            f"empty expression {text!r}: expected TIMERANGES [DAYS [WEEKS [MONTHS]]]"
        )
    fields = body.split()
    if len(fields) > 4:
        raise ScheduleError(
            f"too many fields ({len(fields)}) in {text!r}: "
            "expected at most 4, TIMERANGES [DAYS [WEEKS [MONTHS]]]"
        )
    ctx = _Ctx(text)
    elements = tuple(_parse_element(e, ctx) for e in _items(fields[0], "timeranges", ctx))
    days = _parse_days(fields[1], ctx) if len(fields) > 1 else None
    weeks = _parse_weeks(fields[2], ctx) if len(fields) > 2 else None
    months = _parse_months(fields[3], ctx) if len(fields) > 3 else None
    return Member(exclude, elements, days, weeks, months, text)


@dataclass(frozen=True, slots=True)
class _Ctx:
    member: str

    def error(self, what: str, token: str, field: str, why: str = "") -> ScheduleError:
        msg = f"invalid {what} {token!r} in {field} field of {self.member!r}"
        return ScheduleError(f"{msg}: {why}" if why else msg)


def _items(field_text: str, field: str, ctx: _Ctx) -> list[str]:
    items = field_text.split(",")
    if any(not i for i in items):
        raise ctx.error("list", field_text, field, "empty item")
    return items


# ---------------------------------------------------------------- timeranges


def _parse_element(token: str, ctx: _Ctx) -> Element:
    tilde = token.startswith("~")
    rest = token[1:] if tilde else token
    if rest.count("@") > 1:
        raise ctx.error("time range", token, "timeranges", "more than one '@'")
    core, at, ival = rest.partition("@")
    if core == "*":
        start, end, default = 0, (DAY_SECONDS - 1 if at else STAR_END), DAY_SECONDS
    elif core == "":
        if not at:
            raise ctx.error("time range", token, "timeranges", "empty time range")
        start, end, default = 0, DAY_SECONDS - 1, DAY_SECONDS
    else:
        bounds = core.split("-")
        if len(bounds) > 2:
            raise ctx.error("time range", token, "timeranges", "expected T or T-T")
        a = _clock(bounds[0], token, ctx)
        b = _clock(bounds[1], token, ctx) if len(bounds) == 2 else a
        if a == b:
            # a single time is the two whole seconds T and T+1
            start, end, default = a, (a + 1) % DAY_SECONDS, 2
        elif a < b:
            start, end, default = a, b, b - a + 1
        else:
            start, end, default = a, b, DAY_SECONDS - a + b + 1
    interval = _interval(ival, token, ctx) if at else default
    return Element(start, end, interval, tilde, token)


def _clock(text: str, token: str, ctx: _Ctx) -> int:
    m = _CLOCK.fullmatch(text)
    if not m:
        raise ctx.error("time", text, "timeranges", f"in {token!r}: expected H:MM or H:MM:SS")
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    if h > 23 or mi > 59 or s > 59:
        raise ctx.error(
            "time", text, "timeranges", f"in {token!r}: out of range (00:00:00-23:59:59)"
        )
    return h * 3600 + mi * 60 + s


def _interval(text: str, token: str, ctx: _Ctx) -> int:
    if _NUMBER.fullmatch(text):
        return int(text) * 60
    seconds = unit_seconds(text)
    if seconds is None:
        raise ctx.error(
            "interval",
            text,
            "timeranges",
            f"in {token!r}: expected minutes (digits) or <digits><unit> pairs, units w d h m s",
        )
    return seconds


# ---------------------------------------------------------------- days


def _parse_days(field_text: str, ctx: _Ctx) -> tuple[DayAtom, ...] | None:
    atoms = []
    for item in _items(field_text, "days", ctx):
        if item.count(":") > 1:
            raise ctx.error("day", item, "days", "more than one ':'")
        spec, colon, md_text = item.partition(":")
        if colon and not md_text:
            raise ctx.error("day", item, "days", "nothing after ':'")
        weekdays = frozenset(range(7)) if spec in ("", "*") else _day_range(spec, item, ctx)
        monthday = _monthday(md_text, item, ctx) if colon else None
        atoms.append(DayAtom(weekdays, monthday))
    if all(a.monthday is None and len(a.weekdays) == 7 for a in atoms):
        return None
    return tuple(atoms)


def _day_range(spec: str, item: str, ctx: _Ctx) -> frozenset[int]:
    ends = spec.split("-")
    if len(ends) > 2:
        raise ctx.error("day range", item, "days", "expected DAY or DAY-DAY")
    values = [_day(e, item, ctx) for e in ends]
    return frozenset(_span(values[0], values[-1], 0, 6))


def _day(text: str, item: str, ctx: _Ctx) -> int:
    if text in ("1", "2", "3", "4", "5", "6", "7"):
        return int(text) - 1
    day = _DAY_NAMES.get(text.lower())
    if day is None:
        raise ctx.error("day", text, "days", "expected mon..sun, monday..sunday or 1..7")
    return day


def _monthday(text: str, item: str, ctx: _Ctx) -> int:
    if text in ORDINALS:
        return ORDINALS[text]
    m = _MONTHDAY.fullmatch(text)
    if not m or not 1 <= int(m[2]) <= 31:
        raise ctx.error(
            "day of month",
            text,
            "days",
            f"in {item!r}: expected first..fifth, 1st..5th, last, N, +N or -N with N in 1..31",
        )
    return -int(m[2]) if m[1] == "-" else int(m[2])


def _span(a: int, b: int, lo: int, hi: int) -> list[int]:
    """Values a..b inclusive, wrapping past hi back to lo when a > b."""
    if a <= b:
        return list(range(a, b + 1))
    return list(range(a, hi + 1)) + list(range(lo, b + 1))


# ---------------------------------------------------------------- weeks


def _parse_weeks(field_text: str, ctx: _Ctx) -> frozenset[int] | None:
    if field_text == "*":
        return None
    weeks: set[int] = set()
    for item in _items(field_text, "weeks", ctx):
        ends = item.split("-")
        if len(ends) > 2:
            raise ctx.error("week range", item, "weeks", "expected N or A-B")
        values = []
        for e in ends:
            if not _NUMBER.fullmatch(e) or not 1 <= int(e) <= 53:
                raise ctx.error("week", e, "weeks", "expected an ISO week number 1..53")
            values.append(int(e))
        weeks.update(_span(values[0], values[-1], 1, 53))
    return frozenset(weeks)


# ---------------------------------------------------------------- months


def _parse_months(field_text: str, ctx: _Ctx) -> frozenset[int] | None:
    months: set[int] = set()
    for item in _items(field_text, "months", ctx):
        if item.count("%") > 1:
            raise ctx.error("month", item, "months", "more than one '%'")
        spec, pct, mod = item.partition("%")
        if spec in ("", "*"):
            if spec == "" and not pct:
                raise ctx.error("month", item, "months", "empty month")
            base = list(range(1, 13))
        else:
            ends = spec.split("-")
            if len(ends) > 2:
                raise ctx.error("month range", item, "months", "expected M or M-M")
            values = [_month(e, ctx) for e in ends]
            base = _span(values[0], values[-1], 1, 12)
        if pct:
            m = _MODULO.fullmatch(mod)
            if not m or int(m[1]) < 1:
                raise ctx.error(
                    "month modulo", item, "months", "expected %M or %M+S with M >= 1 and S >= 0"
                )
            div, shift = int(m[1]), int(m[2] or 0)
            base = [v for v in base if (v + shift) % div == 0]
        months.update(base)
    if len(months) == 12:
        return None
    return frozenset(months)


def _month(text: str, ctx: _Ctx) -> int:
    if _NUMBER.fullmatch(text) and not text.startswith("+") and 1 <= int(text) <= 12:
        return int(text)
    month = _MONTH_NAMES.get(text.lower())
    if month is None:
        raise ctx.error("month", text, "months", "expected jan..dec, january..december or 1..12")
    return month
