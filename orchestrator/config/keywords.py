"""The table of every configuration keyword: one row drives parsing, validation,
``print config``, and the keyword reference in docs/keywords.md.

Section kinds: ``DEFAULT`` and the resource drivers of the driver registry in service
configs; ``node``, ``cluster``, ``collector`` in node.conf. ``[env]`` holds free-form
variables for ``{env.VAR}`` references. The rows live in ``config/tables/``, one module per
section kind; a new driver adds its module to ``_TABLES_OF`` and ``TABLE_MODULES``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from orchestrator.config.keyword import Keyword
from orchestrator.resources.registry import DRIVERS

# The modules of config/tables/ holding each section kind's rows and checks, imported when
# a config first has a section of that kind: a task-only service never imports the ip, fs
# or app tables (svcmgr's start-up, bench/README.md). tests/unit/test_keyword_tables.py
# checks this map against every row and check of every table module.
_TABLES_OF: dict[str, tuple[str, ...]] = {
    "DEFAULT": ("default", "default_compat"),
    "ip": ("ip",),
    "disk": ("disk",),
    "fs": ("fs",),
    "app": ("app",),
    "task": ("task", "container"),  # container.py also checks tasks of type docker, podman
    "sync": ("sync",),
    "container": ("container",),
    "*": ("generic",),
    "subset": ("subset",),
    "node": ("node",),
    "cluster": ("node",),
    "collector": ("node",),
    "metrics": ("metrics",),
}
# every table, in the reference's order (docs/keywords.md)
TABLE_MODULES = ("default", "default_compat", "ip", "disk", "fs", "app", "task", "sync",
                 "container", "generic", "subset", "node", "metrics")

RESOURCE_DRIVERS = tuple(DRIVERS)  # the section groups the driver registry declares
SERVICE_SECTIONS = ("DEFAULT", *RESOURCE_DRIVERS)
NODE_SECTIONS = ("node", "cluster", "collector", "metrics")


def _table(module: str) -> ModuleType:
    return importlib.import_module(f"orchestrator.config.tables.{module}")


def _tables(section_kind: str) -> list[ModuleType]:
    return [_table(m) for m in _TABLES_OF.get(section_kind, ())]


def _rows(section_kind: str) -> list[Keyword]:
    return [k for table in _tables(section_kind) for k in table.ROWS if k.section == section_kind]


@functools.cache  # the table is static: built once per kind, not per section
def keywords_of(section_kind: str) -> dict[str, Keyword]:
    """Every keyword allowed in a section of this kind, by name (shared: do not modify)."""
    return {k.name: k for k in _rows(section_kind)}


@functools.cache  # the table is static: built once per kind, not per section
def resource_keywords(group: str) -> dict[str, Keyword]:
    """Every keyword of a ``[group#id]`` section: the driver's own rows, then the keywords
    OpenSVC accepts in every resource section (``tables/generic``) it has no row for."""
    return {**keywords_of("*"), **keywords_of(group)}


@functools.cache  # the table is static: built once per kind, not per section
def aliases_of(section_kind: str) -> dict[str, str]:
    """OpenSVC's other names of this section kind's keywords: alias -> keyword name."""
    return {alias: k.name for k in _rows(section_kind) for alias in k.aliases}


@functools.cache  # the table is static: built once per kind, not per section
def resource_aliases(group: str) -> dict[str, str]:
    """The other names of a ``[group#id]`` section's keywords (generic ones, then its own)."""
    return {**aliases_of("*"), **aliases_of(group)}


@functools.cache  # the table is static: built once per kind, not per section
def is_resource_keyword(name: str) -> bool:
    """A keyword of some resource section (a DEFAULT value of it is their default)."""
    return name != "type" and any(name in resource_keywords(group) or name in aliases_of(group)
                                  for group in RESOURCE_DRIVERS)


@functools.cache  # the table is static: built once per kind, not per section
def no_effect_anywhere(name: str) -> str | None:
    """Why a resource keyword takes no effect in any driver here; None if one acts on it."""
    reasons = [kw.no_effect for group in RESOURCE_DRIVERS
               if (kw := resource_keywords(group).get(name)) is not None]
    return reasons[0] if reasons and all(reasons) else None


def section_checks(section_kind: str) -> list[Callable[[Mapping[str, Any]], list[tuple[str, str]]]]:
    """Checks across the keywords of one section (a table's ``CHECKS``: (kind, check) pairs):
    each takes the section's typed values and returns (keyword, reason) problems."""
    return [check for table in _tables(section_kind)
            for kind, check in getattr(table, "CHECKS", ()) if kind == section_kind]


def service_checks(section_kind: str) -> list[Callable[[Any, Mapping[str, Any]],
                                                      list[tuple[str, str]]]]:
    """Checks of one resource against the others of its service (a table's
    ``SERVICE_CHECKS``: (kind, check) pairs): each takes the ResourceConfig and every
    resource by rid, and returns (keyword as written, reason) problems."""
    return [check for table in _tables(section_kind)
            for kind, check in getattr(table, "SERVICE_CHECKS", ()) if kind == section_kind]


def all_keywords() -> list[Keyword]:
    """Every row of every table, in table order (the reference, docs/keywords.md)."""
    return [row for module in TABLE_MODULES for row in _table(module).ROWS]
