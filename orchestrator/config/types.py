"""Converters from keyword text to typed values.

Each converter raises ``ValueError`` with a short reason; the validator adds the file,
section, keyword and value around it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

# OpenSVC's booleans: om3 (Go's ParseBool: t, T, TRUE, True ...) and v2 (yes, y, no, none)
_TRUE = {"true", "yes", "y", "on", "1", "t"}
_FALSE = {"false", "no", "n", "off", "0", "f", "none"}
# om3's durations: Go's units and d, w, y; decimals (1.5h)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|[ywdhms])", re.IGNORECASE)
_DURATION_UNITS = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1,
                   "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
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
    """``30`` (seconds), ``30s``, ``5m``, ``1h30m``, ``1.5h``, ``2d``, ``1y``, ``500ms`` ->
    seconds."""
    s = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    pos, total = 0, 0
    for m in _DURATION_PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
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


_UNLIMITED = {"-1", "unlimited", "infinity"}


def to_limit_size(text: str) -> int:
    """A ``limit_*`` size or count (``limit_nofile = 1024``, ``limit_as = 1g``); ``-1`` or
    ``unlimited``: no limit (-1)."""
    if text.strip().lower() in _UNLIMITED:
        return -1
    return to_size(text)


def to_limit_seconds(text: str) -> int:
    """``limit_cpu``: a duration (``30s``, ``1h``) in whole seconds, as om3 truncates it;
    ``-1`` or ``unlimited``: no limit (-1)."""
    if text.strip().lower() in _UNLIMITED:
        return -1
    return int(to_duration(text))


RETCODE_STATUSES = ("up", "down", "warn", "n/a", "undef")


class _Value:
    """A typed keyword value that is one thing, not a sequence (generic code turns tuples
    into lists of words): equal by its fields, immutable by convention. Not a dataclass:
    svcmgr's start-up (bench/README.md)."""

    __slots__: tuple[str, ...] = ()

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"


class RetCodes(_Value):
    """An app check's exit codes mapped to statuses (``0:up 1:down``); an exit code not
    in the map is ``warn`` (om3's util/retcodes)."""

    __slots__ = ("codes",)

    def __init__(self, codes: tuple[tuple[int, str], ...]):
        self.codes = codes

    def status(self, exit_code: int) -> str | None:
        """The status word of ``exit_code``, None when the map does not name it (warn)."""
        return dict(self.codes).get(exit_code)

    def __str__(self) -> str:
        return " ".join(f"{code}:{status}" for code, status in self.codes)


def to_retcodes(text: str) -> RetCodes:
    """``0:up 1:down 3:warn 4:n/a 5:undef`` -> RetCodes. om3 drops a rule it cannot read
    with a warning; here it is a config error, so the check never means something else."""
    codes: dict[int, str] = {}
    for rule in text.split():
        code, sep, status = rule.partition(":")
        if not sep or not re.fullmatch(r"-?\d+", code) or status not in RETCODE_STATUSES:
            raise ValueError(f"expected CODE:STATUS rules (STATUS one of "
                             f"{', '.join(RETCODE_STATUSES)}), got {rule!r}")
        codes[int(code)] = status
    if not codes:
        raise ValueError("expected CODE:STATUS rules like 0:up 1:down")
    return RetCodes(tuple(codes.items()))


class Requirement(_Value):
    """``rid(state,state)`` in ``run_requires``: the resource must be in one of the states."""

    __slots__ = ("rid", "states")

    def __init__(self, rid: str, states: tuple[str, ...]):
        self.rid = rid
        self.states = states

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


_SIZE = re.compile(r"^(\d+(?:[.,]\d+)?) ?([kmgtpe])?(i)?(b)?$", re.IGNORECASE)
_SIZE_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}


def to_size(text: str) -> int:
    """OpenSVC's size syntax -> bytes: ``32m``, ``1g``, ``512MiB`` are powers of 1024,
    ``20MB`` (a B without an i) of 1000; ``4096`` is bytes (om3's sizeconv.FromSize)."""
    m = _SIZE.match(text.strip())
    if not m:
        raise ValueError("expected a size like 100m, 1g, 512MiB or 20MB")
    number, prefix, binary, byte = m.groups()
    base = 1000 if byte and not binary else 1024
    return int(float(number.replace(",", ".")) * base ** _SIZE_POWERS[(prefix or "").lower()])


def to_file_mode(text: str) -> int:
    """Permissions in octal: ``755``, ``0640``, ``1777``."""
    s = text.strip()
    if not re.fullmatch(r"(0o?)?[0-7]{1,4}", s):
        raise ValueError("expected octal permissions like 0755")
    return int(s.removeprefix("0o"), 8)


def to_netmask(text: str) -> int:
    """A prefix length (``24``, ``64``) or a dotted IPv4 netmask (``255.255.255.0``) -> the
    prefix length; whether it fits the address family is checked with the address."""
    s = text.strip()
    if re.fullmatch(r"\d{1,3}", s) and int(s) <= 128:
        return int(s)
    parts = s.split(".")
    if len(parts) == 4 and all(re.fullmatch(r"\d{1,3}", p) and int(p) < 256 for p in parts):
        bits = "".join(f"{int(p):08b}" for p in parts)
        if "01" not in bits:
            return bits.count("1")
        raise ValueError("the dotted netmask's bits are not contiguous")
    raise ValueError("expected a prefix length (24) or a dotted netmask (255.255.255.0)")


_HOSTNAME = re.compile(r"(?=.{1,253}\.?$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
                       r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?")


def to_address_or_hostname(text: str) -> str:
    """An IPv4/IPv6 address, or a host name resolved when the resource acts."""
    import ipaddress

    s = text.strip()
    try:
        return str(ipaddress.ip_address(s))
    except ValueError:
        pass
    if "/" in s:
        raise ValueError("expected an address without a prefix length (set it in netmask)")
    if re.fullmatch(r"[\d.]+", s) or ":" in s or not _HOSTNAME.fullmatch(s):
        raise ValueError("expected an IP address or a host name")
    return s


def to_interface(text: str) -> str:
    """A network interface name (``eth0``), or ``eth0:1``: the address's label forced."""
    s = text.strip()
    if "@" in s:
        raise ValueError("macvtap interfaces (NAME@INTERFACE) are not supported")
    dev, _, index = s.partition(":")
    if not re.fullmatch(r"[^\s/:]{1,15}", dev) or (":" in s and not index.isdigit()):
        raise ValueError("expected an interface name of at most 15 characters, or NAME:N")
    if len(s) > 15:
        raise ValueError(f"the label {s} is longer than 15 characters")
    return s


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
    to_size: "size",
    to_file_mode: "octal mode",
    to_netmask: "netmask",
    to_address_or_hostname: "address or host name",
    to_interface: "interface",
    to_limit_size: "size or count",
    to_limit_seconds: "duration (seconds)",
    to_retcodes: "retcodes",
}


def type_name(convert: Callable[[str], Any]) -> str:
    choices = getattr(convert, "choices", None)
    if choices:
        return " | ".join(choices)
    return TYPE_NAMES.get(convert, "string")
