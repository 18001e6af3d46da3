"""Load a service config: parse, check every keyword against the table, resolve node
scoping (``kw@node``) and references (``{nodename}``, ``{svcname}``, ``{env.VAR}``).

The result is a plain, typed, immutable view for one node; all problems are reported at once.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from orchestrator.config.errors import ConfigError, ConfigProblem
from orchestrator.config.ini import IniSection, parse_ini
from orchestrator.config.keyword import Keyword
from orchestrator.config.keywords import (
    RESOURCE_DRIVERS,
    aliases_of,
    keywords_of,
    section_checks,
)

_SECTION_NAME = re.compile(r"^(?P<driver>[a-z]+)#(?P<id>[A-Za-z0-9_.-]+)$")
_SVCNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$", re.IGNORECASE)
_REFERENCE = re.compile(r"\{(nodename|svcname|env\.[A-Za-z_][A-Za-z0-9_]*)\}")
_SCOPES = ("nodes", "drpnodes")


@dataclass(frozen=True)
class ResourceConfig:
    """One ``[driver#id]`` section, resolved for this node, every keyword typed and defaulted."""

    rid: str
    driver: str
    values: Mapping[str, Any]
    lines: Mapping[str, int] = field(default_factory=dict)

    def __getitem__(self, keyword: str) -> Any:
        return self.values[keyword]

    def get(self, keyword: str, default: Any = None) -> Any:
        return self.values.get(keyword, default)


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    path: str
    nodename: str
    text: str
    defaults: Mapping[str, Any]
    env: Mapping[str, str]
    resources: Mapping[str, ResourceConfig]

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(self.defaults["nodes"])


def validate_service_name(name: str) -> None:
    from orchestrator.errors import UsageError

    if not _SVCNAME.match(name):
        raise UsageError(
            f"invalid service name {name!r}: use letters, digits, '.', '_' and '-'"
        )


def read_config_text(path: Path) -> str:
    """Read a config file; unreadable or missing files become one-line errors."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(path), None, None, None, None,
                                         "no such file")]) from None
    except (PermissionError, IsADirectoryError, UnicodeDecodeError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError([ConfigProblem(str(path), None, None, None, None,
                                         f"cannot read: {reason}")]) from None


def load_service(path: Path, name: str, nodename: str) -> ServiceConfig:
    """Load and validate ``path`` as service ``name`` seen from ``nodename``."""
    return parse_service(read_config_text(path), str(path), name, nodename)


def parse_service(text: str, path: str, name: str, nodename: str) -> ServiceConfig:
    """Validate config text; raise ConfigError listing every problem."""
    sections, ini_problems = parse_ini(text)
    problems = [ConfigProblem(path, p.line, p.section, p.key, None, p.message)
                for p in ini_problems]
    resolver = _Resolver(path, name, nodename, sections, problems)
    result = resolver.resolve()
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))
    defaults, env, resources = result
    return ServiceConfig(name, path, nodename, text, defaults, env, resources)


class _Resolver:
    def __init__(self, path: str, svcname: str, nodename: str,
                 sections: dict[str, IniSection], problems: list[ConfigProblem]):
        self.path = path
        self.svcname = svcname
        self.nodename = nodename
        self.sections = sections
        self.problems = problems
        env_section = sections.get("env")
        self.env = dict(env_section.options) if env_section else {}

    def problem(self, section: IniSection, key: str | None, value: str | None,
                reason: str) -> None:
        line = section.lines.get(key, section.line) if key else section.line
        self.problems.append(ConfigProblem(self.path, line, section.name, key, value, reason))

    def resolve(self) -> tuple[Mapping[str, Any], Mapping[str, str], Mapping[str, ResourceConfig]]:
        default_section = self.sections.get("DEFAULT", IniSection("DEFAULT", 0))
        # nodes first: @nodes scoping depends on it
        self.node_list = self.raw_list(default_section, "nodes") or (self.nodename,)
        self.drpnode_list = self.raw_list(default_section, "drpnodes")
        defaults = self.resolve_section(default_section, keywords_of("DEFAULT"),
                                        aliases_of("DEFAULT"))
        if defaults.get("nodes") is None:
            defaults["nodes"] = (self.nodename,)
        resources: dict[str, ResourceConfig] = {}
        for sname, section in self.sections.items():
            if sname in ("DEFAULT", "env"):
                continue
            m = _SECTION_NAME.match(sname)
            if not m:
                self.problem(section, None, None,
                             "bad section name: expected DEFAULT, env or DRIVER#ID "
                             "(app#0, task#backup, sync#1)")
                continue
            driver = m.group("driver")
            if driver not in RESOURCE_DRIVERS:
                self.problem(section, None, None,
                             f"unknown resource driver {driver!r}; supported: "
                             f"{', '.join(RESOURCE_DRIVERS)}")
                continue
            values = self.resolve_section(section, keywords_of(driver), aliases_of(driver))
            for check in section_checks(driver):
                for keyword, reason in check(values):
                    self.problem(section, keyword, _raw(section, keyword), reason)
            resources[sname] = ResourceConfig(sname, driver, MappingProxyType(values),
                                              MappingProxyType(dict(section.lines)))
        for rc in resources.values():
            for req in rc.get("run_requires", ()):
                if req.rid not in resources:
                    section = self.sections[rc.rid]
                    self.problem(section, "run_requires", str(req),
                                 f"no resource {req.rid} in this service")
        return MappingProxyType(defaults), MappingProxyType(self.env), MappingProxyType(resources)

    def resolve_section(self, section: IniSection, table: dict[str, Keyword],
                        aliases: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Typed values of a section's keywords; an alias (v2's name) counts as its keyword,
        and where both are set the keyword's own name wins."""
        chosen: dict[str, tuple[int, str, str]] = {}  # keyword -> (precedence, raw key, value)
        failed: set[str] = set()  # given, but its value was refused: said once, not "missing"
        aliases = aliases or {}
        for raw_key, raw_value in section.options.items():
            keyword, _, scope = raw_key.partition("@")
            is_alias = keyword in aliases
            keyword = aliases.get(keyword, keyword)
            if keyword not in table:
                self.problem(section, raw_key, raw_value, self.unknown(keyword, table))
                continue
            kw = table[keyword]
            if scope and not kw.scopable:
                self.problem(section, raw_key, raw_value,
                             f"keyword {keyword!r} cannot be scoped with @")
                continue
            value = self.expand(section, raw_key, raw_value)
            converted = _INVALID if value is None else self.convert(section, raw_key,
                                                                    raw_value, kw, value)
            refused = kw.refuse(converted) if kw.refuse and converted is not _INVALID else None
            if refused:
                self.problem(section, raw_key, raw_value, refused)
            if converted is _INVALID or refused:
                failed.add(keyword)
                continue
            precedence = self.precedence(scope)
            if precedence is None:
                continue
            precedence = precedence * 2 + (0 if is_alias else 1)
            if keyword not in chosen or precedence > chosen[keyword][0]:
                chosen[keyword] = (precedence, raw_key, converted)
        values = {name: kw.default for name, kw in table.items()}
        for name, (_, _, converted) in chosen.items():
            values[name] = converted
        for name, kw in table.items():
            if kw.required and name not in chosen and name not in failed:
                self.problem(section, name, None, "required keyword is missing")
        return values

    def raw_list(self, section: IniSection, keyword: str) -> tuple[str, ...]:
        """A list keyword read before the rest: ``@nodes`` scoping depends on ``nodes``."""
        value = section.options.get(keyword, "")
        return tuple(w for w in re.split(r"[\s,]+", value.replace("{nodename}", self.nodename))
                     if w)

    def precedence(self, scope: str) -> int | None:
        """Which of ``kw``, ``kw@nodes``, ``kw@NODE`` applies here (higher wins; None: not here)."""
        if not scope:
            return 0
        if scope == "nodes":
            return 1 if self.nodename in self.node_list else None
        if scope == "drpnodes":
            return 1 if self.nodename in self.drpnode_list else None
        return 2 if scope == self.nodename else None

    def expand(self, section: IniSection, raw_key: str, value: str) -> str | None:
        missing: list[str] = []

        def sub(m: re.Match[str]) -> str:
            ref = m.group(1)
            if ref == "nodename":
                return self.nodename
            if ref == "svcname":
                return self.svcname
            var = ref[4:]
            if var in self.env:
                return self.env[var]
            if var in os.environ:
                return os.environ[var]
            missing.append(ref)
            return m.group(0)

        expanded = _REFERENCE.sub(sub, value)
        if missing:
            self.problem(section, raw_key, value,
                         f"unresolved reference {{{missing[0]}}}: no such variable in [env] "
                         "or the environment")
            return None
        return expanded

    def convert(self, section: IniSection, raw_key: str, raw_value: str, kw: Keyword,
                value: str) -> Any:
        try:
            return kw.convert(value)
        except ValueError as exc:
            self.problem(section, raw_key, raw_value, f"invalid {kw.type_name}: {exc}")
            return _INVALID

    @staticmethod
    def unknown(keyword: str, table: dict[str, Keyword]) -> str:
        close = difflib.get_close_matches(keyword, list(table), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown keyword {keyword!r}{hint}"


def _raw(section: IniSection, keyword: str) -> str | None:
    """The text a keyword was given in a section (unscoped first), for a problem's line."""
    if keyword in section.options:
        return section.options[keyword]
    return next((v for k, v in section.options.items() if k.partition("@")[0] == keyword), None)


_INVALID = object()
