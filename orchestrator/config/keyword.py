"""One configuration keyword, and the keywords many resource drivers share.

A keyword is one row: its name (and OpenSVC's other names for it), its section kind, how a
value converts, its default and its documentation. The tables in ``config/tables/`` hold
the rows, one module per section kind; ``config/keywords`` gathers them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from orchestrator.config import types as t


class Advice(str):
    """A reason a section check (a table's ``CHECKS``) gives as a warning, not an error:
    the file is valid, as OpenSVC reads it, and validate says what will happen at run time."""


class Keyword(NamedTuple):
    name: str
    section: str
    convert: Callable[[str], Any]
    default: Any
    doc: str
    scopable: bool = True
    required: bool = False
    # why a valid value is refused (not supported yet, nothing to do here), or None: accepted
    refuse: Callable[[Any], str | None] | None = None
    aliases: tuple[str, ...] = ()  # other names OpenSVC gives it (v2's, deprecated ones)
    # accepted with no effect here: why (validate warns when the value is not the default)
    noop: str | None = None
    # a warning about a valid value as written (om3 refuses it, we read it as ...), or None
    notice: Callable[[str], str | None] | None = None
    # the keyword whose value this one replaces when set (run_timeout -> timeout)
    overrides: str | None = None

    @property
    def type_name(self) -> str:
        return t.type_name(self.convert)

    @property
    def no_effect(self) -> str | None:
        """Why the keyword is accepted with no effect here, or None: ``noop``, or a doc that
        says so ("Accepted, no effect: ...")."""
        if self.noop:
            return self.noop
        for mark in ("Accepted, no effect: ", "Accepted with no effect: "):
            if mark in self.doc:
                return self.doc.split(mark, 1)[1].rstrip(".")
        return None


def kw(section: str, name: str, convert: Callable[[str], Any], default: Any, doc: str,
       **extra: Any) -> Keyword:
    """A row of a keyword table."""
    return Keyword(name, section, convert, default, doc, **extra)


def common_rows(section: str, rows: list[tuple[str, Callable[[str], Any], Any, str]]
                ) -> list[Keyword]:
    """Shared keywords (RESOURCE_COMMON, EXECUTION_COMMON) as rows of ``section``."""
    return [kw(section, n, c, d, doc) for n, c, d, doc in rows]


RESOURCE_COMMON = [
    ("tags", t.to_list, (), "Tags for selection with --tags (`a,b` or, `a+b` and)."),
    ("subset", t.to_string, None, "Subset name for selection with --subsets."),
    ("disable", t.to_bool, False, "Exclude the resource from actions, status and scheduling."),
    ("optional", t.to_bool, False,
     "A failure of this resource does not fail the action, and its status does not count in avail."),
    ("monitor", t.to_bool, False,
     "Monitored: when it is down and its restarts are spent, DEFAULT.monitor_action runs "
     "(resource_monitor job)."),
    ("restart", t.to_int, 0,
     "Restart attempts when the resource is seen down, stdby down or warn (monitored or not); "
     "the count resets when it is seen up. Only drivers started with the service (app) can "
     "be restarted."),
    ("restart_delay", t.to_duration, 0.5, "Minimum delay between two restart attempts."),
]

EXECUTION_COMMON = [
    ("user", t.to_string, None, "Run as this user (name or uid); only root can impersonate."),
    ("group", t.to_string, None, "Run with this group (name or gid); default: the user's primary group."),
    ("cwd", t.to_string, None, "Working directory of the command."),
    ("umask", t.to_umask, None, "Umask of the command, octal (022)."),
    ("environment", t.to_environment, {}, "Extra environment, shlex list of VAR=value."),
]

LIMITS = ["as", "core", "cpu", "data", "fsize", "memlock", "nofile", "nproc", "rss", "stack",
           "vmem"]

_LIMIT_DOCS = {
    "as": "total virtual memory (size; with limit_vmem too, the larger applies)",
    "core": "largest core dump (size)",
    "cpu": "CPU time (duration: 30s, 1h)",
    "data": "data segment (size)",
    "fsize": "largest file created (size)",
    "memlock": "memory locked with mlock(2) (size)",
    "nofile": "open files (count: 1024, 4k)",
    "nproc": "processes of the user (count)",
    "rss": "resident memory (size)",
    "stack": "stack (size)",
    "vmem": "total virtual memory (size, as limit_as)",
}


def limit_rows(section: str) -> list[Keyword]:
    """The ``limit_<name>`` rows: OpenSVC's sizes (``1g`` = 1024**3, ``1GB`` = 1000**3) and
    counts, a duration for cpu; ``-1`` or ``unlimited`` lifts the limit. A value sets both
    the soft and the hard limit of the command."""
    return [kw(section, f"limit_{name}",
               t.to_limit_seconds if name == "cpu" else t.to_limit_size, None,
               f"RLIMIT_{name.upper()} of the command: {_LIMIT_DOCS[name]}.")
            for name in LIMITS]
