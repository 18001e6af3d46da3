"""The keyword reference (docs/keywords.md), generated from the keyword table.

Regenerate with ``python -m orchestrator.config.reference > docs/keywords.md``; a unit test
fails when the file is out of date.
"""

from __future__ import annotations

from typing import Any

from orchestrator.config.keyword import Keyword
from orchestrator.config.keywords import all_keywords

_TITLES = {
    "DEFAULT": "Service `[DEFAULT]`",
    "app": "Service `[app#N]`",
    "task": "Service `[task#N]`",
    "container": "Service `[container#N]`",
    "sync": "Service `[sync#N]`",
    "*": "Every resource section (where its driver has no row of its own)",
    "subset": "Service `[subset#GROUP:NAME]`",
    "node": "node.conf `[node]`",
    "cluster": "node.conf `[cluster]`",
    "collector": "node.conf `[collector]`",
    "metrics": "node.conf `[metrics]`",
}


def _default(kw: Keyword) -> str:
    value: Any = kw.default
    if kw.required:
        return "required"
    if value is None or value == () or value == {}:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        value = " ".join(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, float) and 0 < value < 1:  # a sub-second duration: 500ms
        value = f"{value * 1000:g}ms"
    return f"`{value}`"


def _doc(kw: Keyword) -> str:
    """The description, with OpenSVC's other names of the keyword (aliases)."""
    doc = kw.doc
    if kw.noop:
        doc = f"{doc} Accepted with no effect: {kw.noop} (validate warns)."
    if not kw.aliases:
        return doc
    names = ", ".join(f"`{a}`" for a in kw.aliases)
    return f"{doc} Alias: {names}."


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown() -> str:
    """The whole reference as Markdown, one table per section kind, in table order."""
    out = [
        "# Configuration keywords",
        "",
        "Generated from `orchestrator/config/keywords.py` by "
        "`python -m orchestrator.config.reference > docs/keywords.md`; do not edit by hand.",
        "",
        "Service configs live in `<root>/etc/orchestrator/services/<SVC>.conf`, node settings "
        "in `<root>/etc/orchestrator/node.conf`. A scopable keyword may be written "
        "`keyword@NODE` (or `@nodes`, `@drpnodes`); the most specific one applies on each "
        "node. Values may hold references (`{name}`, `{nodename}`, `{rid}`, `{env.VAR}`, "
        "`{disk#1.dev}`, `{#nodes}` ...), resolved as OpenSVC resolves them; one that "
        "resolves to nothing is an error. `%` is not interpolated. References, repeated "
        "keywords and sections, subsets, and the drivers and keywords accepted with no "
        "effect: [config-compat.md](config-compat.md).",
    ]
    sections: dict[str, list[Keyword]] = {}
    for kw in all_keywords():
        sections.setdefault(kw.section, []).append(kw)
    for section, keywords in sections.items():
        out += ["", f"## {_TITLES.get(section, section)}", "",
                "| keyword | type | default | scopable | description |",
                "|---|---|---|---|---|"]
        for kw in keywords:
            out.append(f"| `{kw.name}` | {_cell(kw.type_name)} | {_cell(_default(kw))} | "
                       f"{'yes' if kw.scopable else 'no'} | {_cell(_doc(kw))} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(render_markdown())
