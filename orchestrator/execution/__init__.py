"""Running one task command robustly: argv, identity, environment, limits, timeout, kill.

Public API::

    spec = CommandSpec("pg_dump mydb", user="postgres", timeout=600, kill_grace=5)
    result = run(spec, log_path)                      # CLI: blocks, Ctrl-C terminates
    running = start(spec, log_path, on_exit=record)   # daemon: returns at once
    running.terminate("service stopping", grace=2)
    result = running.wait()

See docs/execution.md for the rules (shell choice, impersonation, kill policy, exit codes).
"""

from orchestrator.execution.command import SHELL_MARKERS, build_argv, needs_shell
from orchestrator.execution.environment import RUN_TOKEN_VAR, build_environment
from orchestrator.execution.errors import (
    CommandStartError,
    CommandSyntaxError,
    IdentityError,
    ImpersonationError,
    SpecError,
)
from orchestrator.execution.identity import Identity, current_identity, resolve_identity
from orchestrator.execution.process import (
    DEFAULT_DRAIN_TIMEOUT,
    CommandResult,
    RunningCommand,
    run,
    start,
)
from orchestrator.execution.spec import LIMITS, CommandSpec

__all__ = [
    "DEFAULT_DRAIN_TIMEOUT",
    "LIMITS",
    "RUN_TOKEN_VAR",
    "SHELL_MARKERS",
    "CommandResult",
    "CommandSpec",
    "CommandStartError",
    "CommandSyntaxError",
    "Identity",
    "IdentityError",
    "ImpersonationError",
    "RunningCommand",
    "SpecError",
    "build_argv",
    "build_environment",
    "current_identity",
    "needs_shell",
    "resolve_identity",
    "run",
    "start",
]
