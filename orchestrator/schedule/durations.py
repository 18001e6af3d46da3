"""Duration strings ("30s", "5m", "1h30m", "2d", "1w"), shared by windows, anacron and misfire.

The unit grammar is the one of the window ``@INTERVAL``: one or more ``<digits><unit>`` pairs,
units ``w d h m s`` in either case, summed. A bare number is ambiguous outside a window
interval (minutes there, seconds elsewhere), so ``parse_duration`` refuses it.
"""

from __future__ import annotations

import re
from datetime import timedelta

from .errors import ScheduleError

UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PAIRS = re.compile(r"(?:[0-9]+[wdhmsWDHMS])+")
_PAIR = re.compile(r"([0-9]+)([wdhmsWDHMS])")


def unit_seconds(text: str) -> int | None:
    """Seconds of a units string such as "1h30m", or None when it is not one."""
    if not _PAIRS.fullmatch(text):
        return None
    return sum(int(n) * UNIT_SECONDS[u.lower()] for n, u in _PAIR.findall(text))


def parse_duration(text: str) -> timedelta:
    """Parse "30s", "5m", "1h30m", "2d", "1w" into a timedelta; raise ScheduleError otherwise."""
    if not isinstance(text, str):
        raise ScheduleError(
            f"invalid duration {text!r}: expected a string such as '30s' or '1h30m'"
        )
    token = text.strip()
    seconds = unit_seconds(token)
    if seconds is None:
        if token.isdigit():
            reason = "a unit is required (s, m, h, d or w), e.g. '30s' or '5m'"
        else:
            reason = "expected <digits><unit> pairs with units s, m, h, d, w, e.g. '1h30m'"
        raise ScheduleError(f"invalid duration {text!r}: {reason}")
    return timedelta(seconds=seconds)
