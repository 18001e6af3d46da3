"""A strict INI reader for OpenSVC-layout files.

configparser is not used because it copies ``[DEFAULT]`` into every section, interpolates
``%`` (task commands contain ``date +%F``) and forgets line numbers; our errors must name
the file and line of a duplicate section or keyword.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SECTION = re.compile(r"^\[(?P<name>[^\]]*)\]\s*$")
_OPTION = re.compile(r"^(?P<key>[^=\s][^=]*?)\s*=\s?(?P<value>.*)$")


@dataclass
class IniSection:
    """One ``[name]`` block: its options in file order, and where each was written."""

    name: str
    line: int
    options: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IniProblem:
    line: int
    section: str | None
    key: str | None
    message: str


def parse_ini(text: str) -> tuple[dict[str, IniSection], list[IniProblem]]:
    """Split INI text into sections; return the sections and every syntax problem found.

    Indented lines continue the previous value (joined with a newline). Lines starting with
    ``#`` or ``;`` are comments. Options before the first section header go to DEFAULT.
    """
    sections: dict[str, IniSection] = {}
    problems: list[IniProblem] = []
    current: IniSection | None = None
    last_key: str | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if raw[0] in " \t" and current is not None and last_key is not None:
            current.options[last_key] += "\n" + stripped
            continue
        m = _SECTION.match(stripped)
        if m:
            name = m.group("name").strip()
            last_key = None
            if name in sections:
                problems.append(
                    IniProblem(lineno, name, None,
                               f"duplicate section [{name}] (first at line {sections[name].line})")
                )
                current = IniSection(name, lineno)  # parse on, but keep the first one
                continue
            current = IniSection(name, lineno)
            sections[name] = current
            continue
        m = _OPTION.match(stripped)
        if not m:
            problems.append(IniProblem(lineno, current.name if current else None, None,
                                       f"cannot parse line {stripped!r}: expected 'keyword = value'"))
            continue
        if current is None:
            current = sections.setdefault("DEFAULT", IniSection("DEFAULT", lineno))
        key, value = m.group("key").strip(), m.group("value").strip()
        if key in current.options:
            problems.append(IniProblem(lineno, current.name, key,
                                       f"duplicate keyword {key!r} (first at line {current.lines[key]})"))
            last_key = None
            continue
        current.options[key] = value
        current.lines[key] = lineno
        last_key = key
    return sections, problems
