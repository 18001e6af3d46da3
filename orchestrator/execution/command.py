"""Turning a task's ``command`` keyword into an argv, the way OpenSVC does.

A command that contains ``|``, ``&&`` or ``;`` needs a shell and runs as
``/bin/sh -c COMMAND``. Anything else is split shlex-style (POSIX rules) and exec'ed
directly, with no shell in between: no globbing, no ``$VAR`` expansion, no redirections,
and no shell process to outlive or to signal. Users who want shell features without
one of the markers write ``sh -c '...'`` themselves.
"""

from __future__ import annotations

import shlex

from orchestrator.execution.errors import CommandSyntaxError

SHELL = "/bin/sh"
SHELL_MARKERS: tuple[str, ...] = ("|", "&&", ";")


def needs_shell(command: str) -> bool:
    """True if ``command`` contains one of the markers that route it through ``/bin/sh -c``."""
    return any(marker in command for marker in SHELL_MARKERS)


def build_argv(command: str) -> list[str]:
    """Return the argv to exec for ``command``.

    Raises :class:`CommandSyntaxError` (exit 2) for an empty command or one that
    shlex cannot split (an unbalanced quote, a trailing escape); the message names
    the command.
    """
    if not isinstance(command, str) or not command.strip():
        raise CommandSyntaxError(f"invalid command {command!r}: the command is empty")
    if needs_shell(command):
        return [SHELL, "-c", command]
    try:
        argv = shlex.split(command, posix=True)
    except ValueError as exc:
        raise CommandSyntaxError(f"invalid command {command!r}: {exc}") from None
    if not argv:
        raise CommandSyntaxError(f"invalid command {command!r}: the command is empty")
    return argv
