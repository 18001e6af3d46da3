"""What to run: one immutable, validated description of a command.

The task resource builds a :class:`CommandSpec` from its keywords (``command``, ``user``,
``group``, ``cwd``, ``umask``, ``environment``, ``timeout``, ``limit_*``) and hands it to
:func:`orchestrator.execution.start`. Validation happens at construction, so a bad value
is reported (as a :class:`SpecError`, exit 2) before any process exists.
"""

from __future__ import annotations

import resource
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from orchestrator.execution.errors import SpecError

#: OpenSVC's ``limit_<name>`` keywords and the rlimit each one sets. ``vmem`` is OpenSVC's
#: alias of ``as``. Values are in the kernel's units (bytes, seconds, counts); a value
#: sets both the soft and the hard limit; -1 means unlimited.
LIMITS: Mapping[str, int] = MappingProxyType(
    {
        name: getattr(resource, const)
        for name, const in (
            ("as", "RLIMIT_AS"),
            ("vmem", "RLIMIT_AS"),
            ("core", "RLIMIT_CORE"),
            ("cpu", "RLIMIT_CPU"),
            ("data", "RLIMIT_DATA"),
            ("fsize", "RLIMIT_FSIZE"),
            ("memlock", "RLIMIT_MEMLOCK"),
            ("nofile", "RLIMIT_NOFILE"),
            ("nproc", "RLIMIT_NPROC"),
            ("rss", "RLIMIT_RSS"),
            ("stack", "RLIMIT_STACK"),
        )
        if hasattr(resource, const)
    }
)


def _limit_name(name: str) -> str:
    return name[len("limit_") :] if name.startswith("limit_") else name


_NONE: Mapping[str, Any] = MappingProxyType({})


class _Fields(NamedTuple):
    command: str
    user: str | int | None
    group: str | int | None
    cwd: str | None
    umask: int | None
    environment: Mapping[str, str]
    timeout: float | None
    kill_grace: float
    limits: Mapping[str, int]
    argv: tuple[str, ...] | None


class CommandSpec(_Fields):
    """A command and the context it runs in.

    * ``command``: the ``command`` keyword; see :func:`build_argv` for the shell rule.
    * ``user`` / ``group``: names or numeric ids; None = this process's identity.
    * ``cwd``: working directory, entered as the target user; None = the target
      user's home if it exists, else ``/``.
    * ``umask``: e.g. ``0o027``; None = inherit.
    * ``environment``: added on top of the base environment (see ``environment.py``).
    * ``timeout``: seconds; None = no timeout. At the timeout the process tree is
      terminated (SIGTERM, then SIGKILL after ``kill_grace`` seconds).
    * ``limits``: rlimits by name (``nofile``, ``nproc``, ``core``, ``as``, ...), the
      ``limit_`` prefix of the keyword is accepted and dropped.
    * ``argv``: when given, exec'ed as it is instead of ``command`` split (an executor that
      builds its own argv, such as a container engine's client); ``command`` then only
      describes it.

    Immutable: a NamedTuple validated as it is made (not a dataclass: svcmgr's start-up,
    bench/README.md).
    """

    __slots__ = ()

    def __new__(cls, command: str, user: str | int | None = None,
                group: str | int | None = None, cwd: str | None = None,
                umask: int | None = None, environment: Mapping[str, str] = _NONE,
                timeout: float | None = None, kill_grace: float = 5.0,
                limits: Mapping[str, int] = _NONE,
                argv: tuple[str, ...] | None = None) -> CommandSpec:
        if not isinstance(command, str) or not command.strip():
            raise SpecError(f"invalid command {command!r}: the command is empty")
        if umask is not None and not (isinstance(umask, int) and 0 <= umask <= 0o777):
            raise SpecError(f"invalid umask {umask!r}: expected an octal value 000-777")
        if timeout is not None and not timeout > 0:
            raise SpecError(f"invalid timeout {timeout!r}: expected seconds > 0")
        if not kill_grace >= 0:
            raise SpecError(f"invalid kill grace {kill_grace!r}: expected seconds >= 0")
        if cwd is not None and not str(cwd).strip():
            raise SpecError("invalid cwd '': expected a directory")
        return super().__new__(cls, command, user, group, cwd, umask, _environment(environment),
                               timeout, kill_grace, _limits(limits), argv)

    def rlimits(self) -> list[tuple[int, int]]:
        """The ``(resource, value)`` pairs to set in the child, ``-1`` as RLIM_INFINITY."""
        return [
            (LIMITS[name], resource.RLIM_INFINITY if value == -1 else value)
            for name, value in self.limits.items()
        ]


def _environment(environment: Mapping[str, str]) -> Mapping[str, str]:
    env: dict[str, str] = {}
    for key, value in dict(environment).items():
        if not isinstance(key, str) or not key or "=" in key or "\0" in key:
            raise SpecError(f"invalid environment variable name {key!r}")
        if not isinstance(value, str) or "\0" in value:
            raise SpecError(f"invalid value for environment variable {key}: {value!r}")
        env[key] = value
    return MappingProxyType(env)


def _limits(raw: Mapping[str, int]) -> Mapping[str, int]:
    limits: dict[str, int] = {}
    for raw_name, value in dict(raw).items():
        name = _limit_name(str(raw_name))
        if name not in LIMITS:
            known = ", ".join(sorted(LIMITS))
            raise SpecError(f"unknown limit 'limit_{name}': expected one of {known}")
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise SpecError(f"invalid value for limit_{name}: {value!r} (an integer, -1 = unlimited)")
        limits[name] = value
    return MappingProxyType(limits)
