"""Pure schedule math: window (OpenSVC grammar), cron and anacron schedules.

No I/O and no clock reads: ``now`` is always a parameter. See docs/schedules.md.
"""

from .base import Schedule
from .detect import is_unscheduled, parse
from .durations import parse_duration
from .errors import ScheduleError, Unscheduled
from .explain import explain

__all__ = [
    "Schedule",
    "ScheduleError",
    "Unscheduled",
    "explain",
    "is_unscheduled",
    "parse",
    "parse_duration",
]
