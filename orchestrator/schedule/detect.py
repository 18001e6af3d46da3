"""``parse``: choose the kind from the text and build the Schedule.

Detection rule, in order:
1. a string whose first word is "anacron" -> anacron;
2. a string that is a cron macro (@hourly @daily @midnight @weekly @monthly @yearly
   @annually) or has 5 or 6 blank-separated fields of cron characters only -> cron;
3. anything else (including every list and every JSON-encoded string) -> window.
"@10" is a window (an interval in minutes), never a cron macro.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from functools import lru_cache

from .anacron import AnacronSchedule, looks_like_anacron
from .base import Schedule
from .cron import CronSchedule, looks_like_cron
from .errors import ScheduleError, Unscheduled
from .window import WindowSchedule
from .window_parse import decode, parse_members
from .zones import resolve_zone

Definition = str | list[str] | tuple[str, ...] | None


def parse(
    text_or_list: Definition, *, tz: str | tzinfo | None = None, splay_key: str | None = None
) -> Schedule:
    """Parse a schedule definition; raise ScheduleError (Unscheduled for "no schedule")."""
    if isinstance(text_or_list, list):
        text_or_list = tuple(text_or_list)
    try:
        return _parse(text_or_list, resolve_zone(tz), splay_key)
    except TypeError as exc:  # an unhashable member inside a list
        raise ScheduleError(f"invalid schedule {text_or_list!r}: members are strings") from exc


@lru_cache(maxsize=4096)
def _parse(definition: object, zone: tzinfo, splay_key: str | None) -> Schedule:
    if isinstance(definition, str) and looks_like_anacron(definition):
        return AnacronSchedule(definition.strip(), zone)
    if isinstance(definition, str) and looks_like_cron(definition):
        return CronSchedule(definition.strip(), zone)
    members = decode(definition)
    text = definition if isinstance(definition, str) else _list_text(members)
    return WindowSchedule(text, parse_members(members), zone, splay_key)


def _list_text(members: list[str]) -> str:
    return json.dumps(members)


def is_unscheduled(text_or_list: Definition) -> bool:
    """True for the "no schedule" definitions ("", "@0", JSON null, []), which mean "never"."""
    try:
        if isinstance(text_or_list, list):
            text_or_list = tuple(text_or_list)
        decode(text_or_list)
    except Unscheduled:
        return True
    except ScheduleError:
        return False
    return False
