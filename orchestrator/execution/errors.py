"""Errors raised while preparing or starting a command.

They subclass the project's hierarchy so the CLI can print ``str(exc)`` and exit with
``exc.exit_code`` without knowing about this package:

* a malformed command or spec value is bad input (``UsageError``, exit 2): config
  validation can call :func:`build_argv` / :class:`CommandSpec` to catch it early;
* an unknown user or a refused impersonation depends on the node, so it is an
  ``ActionError`` (exit 1), raised before anything runs;
* a command that cannot be started (missing executable, bad cwd, permission) is an
  ``ActionError`` carrying the shell's conventional status in ``returncode``
  (127 = not found, 126 = found but could not be started).
"""

from __future__ import annotations

from orchestrator.errors import ActionError, UsageError


class SpecError(UsageError):
    """An invalid command specification (bad keyword value): exit 2."""


class CommandSyntaxError(SpecError):
    """The command string cannot be split into arguments (e.g. an unbalanced quote)."""


class IdentityError(ActionError):
    """The requested user or group does not exist on this node."""


class ImpersonationError(IdentityError):
    """Switching to the requested user or group needs privileges this process lacks."""


class CommandStartError(ActionError):
    """The command could not be started; nothing of it ran.

    ``returncode`` follows the shell convention so a run record can store it as the
    run's exit code: 127 when the executable was not found, 126 otherwise.
    """

    def __init__(self, message: str, returncode: int = 126) -> None:
        super().__init__(message)
        self.returncode = returncode
