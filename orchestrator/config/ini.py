"""A strict INI reader for OpenSVC-layout files.

configparser is not used because it copies ``[DEFAULT]`` into every section, interpolates
``%`` (task commands contain ``date +%F``) and forgets line numbers; our errors and
warnings name the file and line.

A repeated keyword or section reads as OpenSVC v3 reads it (om3 loads configs with go-ini,
no shadows, unique sections): the last value of a keyword wins, and a section written twice
is one section, its keywords merged. Each repetition is a warning, not an error. (v2's
Python configparser refused both.) Unlike om3, ``" #"`` and ``" ;"`` inside a value are
kept (om3 cuts the value there, which breaks shell commands such as ``a ; b``), and quotes
around a whole value are kept (om3 strips them).
"""

from __future__ import annotations

import re
from typing import NamedTuple

_SECTION = re.compile(r"^\[(?P<name>[^\]]*)\]\s*$")
_OPTION = re.compile(r"^(?P<key>[^=\s][^=]*?)\s*=\s?(?P<value>.*)$")


class IniSection:
    """One ``[name]`` block: its options in file order, and where each was written."""

    __slots__ = ("name", "line", "options", "lines")

    def __init__(self, name: str, line: int, options: dict[str, str] | None = None,
                 lines: dict[str, int] | None = None):
        self.name = name
        self.line = line
        self.options: dict[str, str] = {} if options is None else options
        self.lines: dict[str, int] = {} if lines is None else lines

    def __repr__(self) -> str:
        return f"IniSection({self.name!r}, line={self.line}, options={self.options!r})"


class IniProblem(NamedTuple):
    line: int
    section: str | None
    key: str | None
    message: str
    warning: bool = False  # read as OpenSVC reads it, but worth saying


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
                problems.append(IniProblem(
                    lineno, name, None,
                    f"repeated section [{name}] (first at line {sections[name].line}): read "
                    "as one section, its keywords merged, as OpenSVC does", warning=True))
                current = sections[name]
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
            problems.append(IniProblem(
                lineno, current.name, key,
                f"repeated keyword {key!r} (first at line {current.lines[key]}): the last "
                "value wins, as in OpenSVC", warning=True))
            del current.options[key]  # the last one, in its place and at its line
        current.options[key] = value
        current.lines[key] = lineno
        last_key = key
    return sections, problems
