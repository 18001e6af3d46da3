"""The project's exception hierarchy.

Every error a user can cause carries the exit code the CLI must return and a one-line
message naming the file, keyword and value at fault. The CLI prints ``str(exc)`` and exits
with ``exc.exit_code``; nothing below the CLI prints or exits.
"""

from __future__ import annotations


class OrchestratorError(Exception):
    """Base class: an action failed (exit 1)."""

    exit_code = 1


class UsageError(OrchestratorError):
    """Bad usage or invalid input: unknown service, bad config, bad schedule (exit 2)."""

    exit_code = 2


class ActionError(OrchestratorError):
    """An action ran and failed: task failed, run aborted, requirement not met (exit 1)."""

    exit_code = 1
