"""The table of every configuration keyword: one row drives parsing, validation,
``print config``, and the keyword reference in docs/keywords.md.

Section kinds: ``DEFAULT`` and the resource drivers of the driver registry in service
configs; ``node``, ``cluster``, ``collector`` in node.conf. ``[env]`` holds free-form
variables for ``{env.VAR}`` references. The rows live in ``config/tables/``, one module per
section kind; a new driver adds its module to ``_TABLES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.config.keyword import Keyword
from orchestrator.config.tables import app, default, disk, fs, ip, metrics, node, sync, task
from orchestrator.resources.registry import DRIVERS

_TABLES = (default, ip, disk, fs, app, task, sync, node, metrics)

_ROWS: list[Keyword] = [row for table in _TABLES for row in table.ROWS]

KEYWORDS: dict[tuple[str, str], Keyword] = {(k.section, k.name): k for k in _ROWS}
RESOURCE_DRIVERS = tuple(DRIVERS)  # the section groups the driver registry declares
SERVICE_SECTIONS = ("DEFAULT", *RESOURCE_DRIVERS)
NODE_SECTIONS = ("node", "cluster", "collector", "metrics")


def keywords_of(section_kind: str) -> dict[str, Keyword]:
    """Every keyword allowed in a section of this kind, by name."""
    return {k.name: k for k in _ROWS if k.section == section_kind}


def aliases_of(section_kind: str) -> dict[str, str]:
    """OpenSVC's other names of this section kind's keywords: alias -> keyword name."""
    return {alias: k.name for k in _ROWS if k.section == section_kind for alias in k.aliases}


def section_checks(section_kind: str) -> list[Callable[[Mapping[str, Any]], list[tuple[str, str]]]]:
    """Checks across the keywords of one section (a table's ``CHECKS``: (kind, check) pairs):
    each takes the section's typed values and returns (keyword, reason) problems."""
    return [check for table in _TABLES for kind, check in getattr(table, "CHECKS", ())
            if kind == section_kind]


def all_keywords() -> list[Keyword]:
    return list(_ROWS)
