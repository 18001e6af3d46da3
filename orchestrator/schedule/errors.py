"""Schedule errors.

``ScheduleError`` is a ``ValueError`` (the documented API) and also a ``UsageError`` so the CLI
exits 2 with the message. ``Unscheduled`` marks the "no schedule" definitions, which config
code treats as "never run" rather than as a mistake.
"""

from __future__ import annotations

from orchestrator.errors import UsageError


class ScheduleError(UsageError, ValueError):
    """A schedule definition was rejected; the message names the field and the token."""


class Unscheduled(ScheduleError):
    """The definition is one of the "no schedule" values: "", "@0", JSON null, []."""
