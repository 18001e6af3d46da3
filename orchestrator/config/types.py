"""Converters from keyword text to typed values.

Each converter raises ``ValueError`` with a short reason; the validator adds the file,
section, keyword and value around it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_DURATION_PART = re.compile(r"(\d+)(ms|[wdhms])", re.IGNORECASE)
_DURATION_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_REQUIRE = re.compile(r"^(?P<rid>[A-Za-z0-9_.-]+#[A-Za-z0-9_.-]+)(?:\((?P<states>[^()]*)\))?$")
STATUS_WORDS = ("up", "down", "warn", "n/a", "stdby up", "stdby down", "undef")


def to_string(text: str) -> str:
    return text


def to_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError("expected a boolean (true/false, yes/no, on/off, 1/0)")


def to_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError("expected an integer") from None


def to_positive_int(text: str) -> int:
    value = to_int(text)
    if value < 1:
        raise ValueError("expected an integer >= 1")
    return value


def to_duration(text: str) -> float:
    """``30`` (seconds), ``30s``, ``5m``, ``1h30m``, ``2d``, ``500ms`` -> seconds."""
    s = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    pos, total = 0, 0
    for m in _DURATION_PART.finditer(s):
        if m.start() != pos:
            break
        total += int(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError("expected a duration like 30, 30s, 5m, 1h30m, 2d or 500ms")
    return float(total)


def to_umask(text: str) -> int:
    s = text.strip()
    if not re.fullmatch(r"0?[0-7]{1,3}", s):
        raise ValueError("expected an octal umask like 022")
    return int(s, 8)


def to_list(text: str) -> tuple[str, ...]:
    """Whitespace or comma separated words (``nodes = n1 n2``, ``tags = a,b``)."""
    return tuple(w for w in re.split(r"[\s,]+", text.strip()) if w)


def to_shlex_list(text: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise ValueError(f"cannot split shell-style: {exc}") from None


def to_environment(text: str) -> dict[str, str]:
    """``environment = A=1 "B=two words"`` -> {"A": "1", "B": "two words"}."""
    env: dict[str, str] = {}
    for word in to_shlex_list(text):
        name, sep, value = word.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"expected VAR=value, got {word!r}")
        env[name] = value
    return env


@dataclass(frozen=True)
class Requirement:
    """``rid(state,state)`` in ``run_requires``: the resource must be in one of the states."""

    rid: str
    states: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.rid}({','.join(self.states)})"


def to_requirements(text: str) -> tuple[Requirement, ...]:
    """``app#0(up,stdby up) fs#1`` -> requirements; no states = ``up,stdby up``."""
    reqs: list[Requirement] = []
    # split on whitespace outside parentheses: states may contain spaces ("stdby up")
    for token in re.findall(r"[^\s(]+(?:\([^)]*\))?", text.strip()):
        m = _REQUIRE.match(token)
        if not m:
            raise ValueError(f"expected rid(state,...) items, got {token!r}")
        states_text = m.group("states")
        if states_text is None:
            states: tuple[str, ...] = ("up", "stdby up")
        else:
            states = tuple(s.strip() for s in states_text.split(",") if s.strip())
            bad = [s for s in states if s not in STATUS_WORDS]
            if bad or not states:
                raise ValueError(
                    f"unknown state {bad[0] if bad else ''!r} in {token!r}; "
                    f"states are {', '.join(STATUS_WORDS)}"
                )
        reqs.append(Requirement(m.group("rid"), states))
    return tuple(reqs)


def choice(*allowed: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        value = " ".join(text.strip().split())
        if value not in allowed:
            raise ValueError(f"expected one of: {', '.join(allowed)}")
        return value

    convert.__name__ = "choice"
    convert.choices = allowed  # type: ignore[attr-defined]
    return convert


def to_schedule(text: str) -> str:
    """Validate a schedule definition; keep the text (jobs parse it with their own zone)."""
    from orchestrator.schedule import ScheduleError, is_unscheduled, parse

    if is_unscheduled(text):
        return text.strip()
    try:
        parse(text)
    except ScheduleError as exc:
        raise ValueError(str(exc)) from None
    return text.strip()


def to_timezone(text: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown IANA time zone") from None
    return text.strip()


TYPE_NAMES: dict[Callable[[str], Any], str] = {
    to_string: "string",
    to_bool: "boolean",
    to_int: "integer",
    to_positive_int: "integer >= 1",
    to_duration: "duration",
    to_umask: "octal umask",
    to_list: "list",
    to_shlex_list: "shlex list",
    to_environment: "VAR=value list",
    to_requirements: "requirements",
    to_schedule: "schedule",
    to_timezone: "time zone",
}


def type_name(convert: Callable[[str], Any]) -> str:
    choices = getattr(convert, "choices", None)
    if choices:
        return " | ".join(choices)
    return TYPE_NAMES.get(convert, "string")
