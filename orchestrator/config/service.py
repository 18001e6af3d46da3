"""Load a service config: parse, check every keyword against the table, resolve node
scoping (``kw@node``) and references (``config/references``: ``{name}``, ``{rid}``,
``{env.VAR}``, ``{disk#1.dev}`` ...).

The result is a plain, typed, immutable view for one node; all problems are reported at
once, and the warnings (a keyword accepted with no effect here, a repeated keyword) beside
the result.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from orchestrator.config.context import ServiceContext
from orchestrator.config.errors import ConfigError, ConfigProblem
from orchestrator.config.ini import IniSection, parse_ini
from orchestrator.config.keyword import Advice, Keyword
from orchestrator.config.keywords import (
    RESOURCE_DRIVERS,
    aliases_of,
    is_resource_keyword,
    keywords_of,
    no_effect_anywhere,
    resource_aliases,
    resource_keywords,
    section_checks,
    service_checks,
)
from orchestrator.config.references import References, UnresolvedReference
from orchestrator.config.sections import (
    bad_name_reason,
    parse_name,
    subset_group_reason,
    subset_key,
    unknown_group_reason,
    unsupported_type_reason,
)
from orchestrator.config.tables.generic import SECTION as GENERIC
from orchestrator.resources.registry import DRIVERS

_SVCNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$", re.IGNORECASE)


_NO_LINES: Mapping[str, int] = MappingProxyType({})


class ResourceConfig:
    """One ``[driver#id]`` section, resolved for this node, every keyword typed and defaulted.

    Immutable by convention; a plain class (not a dataclass: bench/README.md, CLI start-up)
    because ``rc["keyword"]`` reads a value, which a NamedTuple's indexing would shadow."""

    __slots__ = ("rid", "driver", "values", "lines")

    def __init__(self, rid: str, driver: str, values: Mapping[str, Any],
                 lines: Mapping[str, int] = _NO_LINES):
        self.rid = rid
        self.driver = driver
        self.values = values
        self.lines = lines

    def __repr__(self) -> str:
        return f"ResourceConfig({self.rid!r}, {self.driver!r}, {dict(self.values)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResourceConfig):
            return NotImplemented
        return (self.rid, self.driver, self.values, self.lines) == (
            other.rid, other.driver, other.values, other.lines)

    __hash__ = None  # type: ignore[assignment]  # its values are mappings, as a dataclass's

    def __getitem__(self, keyword: str) -> Any:
        return self.values[keyword]

    def get(self, keyword: str, default: Any = None) -> Any:
        return self.values.get(keyword, default)


class ServiceConfig(NamedTuple):
    name: str
    path: str
    nodename: str
    text: str
    defaults: Mapping[str, Any]
    env: Mapping[str, str]
    resources: Mapping[str, ResourceConfig]
    # [subset#<group>:<name>] sections as subset#<group>[:<name>]: their keywords (parallel)
    subsets: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    warnings: tuple[ConfigProblem, ...] = ()  # accepted, but told: no effect, repeated ...
    context: ServiceContext | None = None  # what it was resolved against (None: standalone)

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(self.defaults["nodes"])

    @property
    def flex(self) -> bool:
        """``topology = flex``: active on several nodes at once (daemon.flex)."""
        return self.defaults.get("topology") == "flex"


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


def load_service(path: Path, name: str, nodename: str,
                 context: ServiceContext | None = None) -> ServiceConfig:
    """Load and validate ``path`` as service ``name`` seen from ``nodename``."""
    return parse_service(read_config_text(path), str(path), name, nodename, context)


def parse_service(text: str, path: str, name: str, nodename: str,
                  context: ServiceContext | None = None) -> ServiceConfig:
    """Validate config text; raise ConfigError listing every problem. ``context`` is what
    the node reading it knows of its cluster (``NodeConfig.service_context()``); None: a
    standalone node."""
    sections, ini_problems = parse_ini(text)
    problems = [ConfigProblem(path, p.line, p.section, p.key, None, p.message)
                for p in ini_problems if not p.warning]
    warnings = [ConfigProblem(path, p.line, p.section, p.key, None, p.message)
                for p in ini_problems if p.warning]
    resolver = _Resolver(path, name, nodename, sections, problems, context, warnings)
    result = resolver.resolve()
    if resolver.unsupported:
        # a driver we lack: those lines only, so the file says what it needs and nothing
        # that follows from it (a container mounting a volume object, a disk's devices)
        raise ConfigError(sorted(resolver.unsupported, key=lambda p: p.line or 0))
    if problems:
        # a DEFAULT value inherited by several resources is reported once
        raise ConfigError(sorted(dict.fromkeys(problems), key=lambda p: p.line or 0))
    defaults, env, resources = result
    return ServiceConfig(name, path, nodename, text, defaults, env, resources,
                         MappingProxyType(resolver.subsets),
                         tuple(sorted(warnings, key=lambda p: p.line or 0)), context)


class _Resolver:
    def __init__(self, path: str, svcname: str, nodename: str,
                 sections: dict[str, IniSection], problems: list[ConfigProblem],
                 context: ServiceContext | None = None,
                 warnings: list[ConfigProblem] | None = None):
        self.path = path
        self.svcname = svcname
        self.nodename = nodename
        self.sections = sections
        self.problems = problems
        self.warnings = [] if warnings is None else warnings
        self.context = context or ServiceContext.standalone(nodename)
        self.refs = References(sections, svcname, nodename, self.context, self.table_of,
                               _exposes)
        self.env: dict[str, str] = {}
        self.subsets: dict[str, Mapping[str, Any]] = {}
        self._tables: dict[str, dict[str, Keyword]] = {}
        self.invalid: set[tuple[str, str]] = set()  # (section, keyword) written with a bad value
        self.unsupported: list[ConfigProblem] = []  # one per section of a driver we lack

    def problem(self, section: IniSection, key: str | None, value: str | None,
                reason: str, warning: bool = False) -> None:
        line = section.lines.get(key, section.line) if key else section.line
        found = ConfigProblem(self.path, line, section.name, key, value, reason)
        (self.warnings if warning else self.problems).append(found)

    def table_of(self, section: str) -> dict[str, Keyword]:
        """The keyword table of a section, by its name (references read defaults there)."""
        if section not in self._tables:
            name = parse_name(section)
            if name.kind == "DEFAULT":
                table = keywords_of("DEFAULT")
            elif name.kind == "subset":
                table = keywords_of("subset")
            elif name.kind in ("resource", "config_sync") and name.group in RESOURCE_DRIVERS:
                table = resource_keywords(name.group)
            else:
                table = {}
            self._tables[section] = table
        return self._tables[section]

    def resolve(self) -> tuple[Mapping[str, Any], Mapping[str, str], Mapping[str, ResourceConfig]]:
        default_section = self.sections.get("DEFAULT", IniSection("DEFAULT", 0))
        runnable = self.classify()  # first: references into unsupported sections stay as is
        nodes, drpnodes = self.node_lists(default_section)
        defaults = self.resolve_section(default_section, self.table_of("DEFAULT"),
                                        aliases_of("DEFAULT"))
        defaults["nodes"], defaults["drpnodes"] = nodes, drpnodes
        if defaults.get("id") is None:  # worked out when read: most commands never ask
            # bound to the context and the name only: a closure over the resolver kept it
            # (and its parsed sections and caches) alive as long as the config, ~120 KB each
            defaults = _Defaults(defaults, functools.partial(self.context.service_id,
                                                             self.svcname))
        if defaults.get("env") is None:
            defaults["env"] = self.context.node_env
        self.env = self.resolve_env()
        resources: dict[str, ResourceConfig] = {}
        for sname, group in runnable.items():
            section = self.sections[sname]
            values = self.resolve_section(section, self.table_of(sname), resource_aliases(group),
                                          inherit=True)
            if defaults.get("disable"):
                values["disable"] = True  # om3: DEFAULT.disable wins over the resource's
            for check in section_checks(group):
                for keyword, reason in check(values):
                    if (sname, keyword) not in self.invalid:  # already said: its bad value
                        self.problem(section, keyword, _raw(section, keyword), reason,
                                     warning=isinstance(reason, Advice))
            resources[sname] = ResourceConfig(sname, group, MappingProxyType(values),
                                              MappingProxyType(dict(section.lines)))
        for rc in resources.values():
            for req in rc.get("run_requires", ()):
                if req.rid not in resources and req.rid not in self.refs.unsupported:
                    section = self.sections[rc.rid]
                    self.problem(section, "run_requires", str(req),
                                 f"no resource {req.rid} in this service")
            for check in service_checks(rc.driver):
                section = self.sections[rc.rid]
                for keyword, reason in check(rc, resources):
                    self.problem(section, keyword, _raw(section, keyword), reason)
        return MappingProxyType(defaults), MappingProxyType(self.env), MappingProxyType(resources)

    def classify(self) -> dict[str, str]:
        """The resource sections we run (rid -> group), in file order; every other section
        is checked here: subsets, the config sync, bad names, drivers we lack (one error
        each, naming the driver, and nothing more about that section)."""
        runnable: dict[str, str] = {}
        for sname, section in self.sections.items():
            name = parse_name(sname)
            if name.kind in ("DEFAULT", "env"):
                continue
            if name.kind == "bad":
                self.problem(section, None, None, bad_name_reason(sname))
            elif name.kind == "subset":
                reason = subset_group_reason(str(name.group))
                if reason:
                    self.problem(section, None, None, reason)
                else:
                    key = subset_key(str(name.group), name.subset)
                    self.subsets[key] = {**self.subsets.get(key, {}),
                                         **self.resolve_section(section, keywords_of("subset"))}
            elif name.kind == "config_sync":
                self.config_sync(section)
            else:
                group = str(name.group)
                reason = unknown_group_reason(group) or unsupported_type_reason(
                    group, self.section_type(section, group))
                if reason:
                    self.unsupported.append(ConfigProblem(self.path, section.line, sname,
                                                          None, None, reason))
                    self.refs.unsupported.add(sname)
                else:
                    runnable[sname] = group
        return runnable

    def section_type(self, section: IniSection, group: str) -> str | None:
        """A resource's ``type`` as this node reads it (references resolved), else its
        table default; None when unknown (its own error is reported with the section)."""
        if group not in RESOURCE_DRIVERS:
            return None
        try:
            raw = self.refs.raw(section.name, "type")
            if raw is not None:
                return " ".join(self.refs.expand(raw, section.name).split())
        except UnresolvedReference:
            return None
        kw = self.table_of(section.name).get("type")
        return None if kw is None or kw.default is None else str(kw.default)

    def config_sync(self, section: IniSection) -> None:
        """``[sync#i0]``: OpenSVC's sync of the service's config files to its peers, which
        our config distribution does; its keywords are checked, it runs nothing."""
        table = {n: k._replace(required=False) for n, k in resource_keywords("sync").items()}
        values = self.resolve_section(section, table, resource_aliases("sync"))
        if not values.get("disable"):
            self.problem(section, None, None,
                         "accepted with no effect: the cluster store distributes the config "
                         "to the service's nodes here (OpenSVC's config sync)", warning=True)

    def node_lists(self, default: IniSection) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """DEFAULT.nodes and drpnodes, expanded (``*``, globs, references)."""
        found = []
        for keyword in ("nodes", "drpnodes"):
            try:
                found.append(getattr(self.refs, keyword))
            except UnresolvedReference as exc:
                self.problem(default, keyword, default.options.get(keyword), str(exc))
                fallback = (self.nodename,) if keyword == "nodes" else ()
                setattr(self.refs, f"_{keyword}", fallback)
                found.append(fallback)
        return found[0], found[1]

    def resolve_env(self) -> dict[str, str]:
        """The ``[env]`` variables, their references resolved."""
        section = self.sections.get("env")
        if section is None:
            return {}
        env = {}
        for raw_key in section.options:
            name = raw_key.partition("@")[0]
            if name in env:
                continue
            try:
                env[name] = self.refs.resolve(f"env.{name}", "env")
            except UnresolvedReference as exc:
                self.problem(section, raw_key, section.options[raw_key], str(exc))
        return env

    def resolve_section(self, section: IniSection, table: dict[str, Keyword],
                        aliases: Mapping[str, str] | None = None,
                        inherit: bool = False) -> dict[str, Any]:
        """Typed values of a section's keywords; an alias (v2's name) counts as its keyword,
        and where both are set the keyword's own name wins. ``inherit``: a keyword the
        section does not set takes DEFAULT's, where DEFAULT's row says it is inherited."""
        chosen: dict[str, tuple[int, str, Any]] = {}  # keyword -> (precedence, raw key, value)
        written: set[str] = set()  # a required keyword written with a bad value is not missing
        aliases = aliases or {}
        for raw_key, raw_value in section.options.items():
            keyword, _, scope = raw_key.partition("@")
            is_alias = keyword in aliases
            keyword = aliases.get(keyword, keyword)
            if keyword not in table:
                if section.name == "DEFAULT" and table is self.table_of("DEFAULT") and \
                        is_resource_keyword(keyword):
                    # the default of the resources that have it, as om3 takes it (inherit)
                    why = no_effect_anywhere(keyword)
                    if why:
                        self.problem(section, raw_key, raw_value,
                                     f"accepted with no effect: {why}", warning=True)
                    continue
                self.problem(section, raw_key, raw_value, self.unknown(keyword, table))
                continue
            written.add(keyword)
            kw = table[keyword]
            if scope and not kw.scopable:
                self.problem(section, raw_key, raw_value,
                             f"keyword {keyword!r} cannot be scoped with @")
                continue
            converted = self.typed(section, raw_key, raw_value, kw)
            if converted is _INVALID:
                self.invalid.add((section.name, keyword))
                continue
            precedence = self.precedence(scope)
            if precedence is None:
                continue
            precedence = precedence * 2 + (0 if is_alias else 1)
            if keyword not in chosen or precedence > chosen[keyword][0]:
                chosen[keyword] = (precedence, raw_key, converted)
        # a generic keyword (tables/generic) has a value only where written: drivers' own
        # checks see their own keywords
        values = {name: kw.default for name, kw in table.items() if kw.section != GENERIC}
        for name, (_, raw_key, converted) in chosen.items():
            values[name] = converted
            self.advise(section, raw_key, table[name], converted)
        if inherit:
            self.inherit(section, table, chosen, values)
        for name, kw in table.items():
            if kw.overrides and name in chosen:
                values[kw.overrides] = values[name]  # run_timeout -> timeout
            if kw.required and name not in written:
                self.problem(section, name, None, "required keyword is missing")
        return values

    def typed(self, section: IniSection, raw_key: str, raw_value: str, kw: Keyword) -> Any:
        """One written value: references resolved, converted, refused or noted."""
        try:
            value = self.refs.expand_keyword(section.name, kw.name, raw_value)
        except UnresolvedReference as exc:
            self.problem(section, raw_key, raw_value, str(exc))
            return _INVALID
        if not value.strip():
            # ``key =``, as OpenSVC templates leave a blank to fill: the keyword's default,
            # still beating a less specific scope (``stop@n1 =`` clears it on n1)
            if kw.required:
                self.problem(section, raw_key, raw_value, "is empty: the resource cannot "
                             "start until it is set", warning=True)
            return kw.default
        converted = self.convert(section, raw_key, raw_value, kw, value)
        if converted is _INVALID:
            return _INVALID
        refused = kw.refuse(converted) if kw.refuse else None
        if refused:
            self.problem(section, raw_key, raw_value, refused)
            return _INVALID
        notice = kw.notice(value) if kw.notice else None
        if notice:
            self.problem(section, raw_key, raw_value, notice, warning=True)
        return converted

    def advise(self, section: IniSection, raw_key: str, kw: Keyword, value: Any) -> None:
        """Warn of a keyword accepted with no effect here, when it asks for one."""
        why = kw.no_effect
        if why and value != kw.default:
            self.problem(section, raw_key, section.options.get(raw_key),
                         f"accepted with no effect: {why}", warning=True)

    def inherit(self, section: IniSection, table: dict[str, Keyword],
                chosen: Mapping[str, Any], values: dict[str, Any]) -> None:
        """om3's leaf-to-head inheritance: a keyword the section does not set takes
        DEFAULT's value, when DEFAULT sets it (``DEFAULT.timeout`` for every resource with
        a timeout); a bad value is reported once, at DEFAULT's line."""
        default = self.sections.get("DEFAULT")
        if default is None:
            return
        written = {name for name, _, _ in self.refs.options_of("DEFAULT")}
        for name, kw in table.items():
            if name in chosen or name == "type" or \
                    written.isdisjoint(self.refs.names_of("DEFAULT", name)):
                continue  # DEFAULT does not write it (under any of its names)
            raw = self.refs.raw("DEFAULT", name)
            if raw is None:
                continue
            raw_key = next(k for k in default.options if k.partition("@")[0] in
                           (name, *kw.aliases))
            converted = self.typed(default, raw_key, raw, kw)
            if converted is not _INVALID:
                values[name] = converted

    def precedence(self, scope: str) -> int | None:
        """Which of ``kw``, ``kw@nodes``, ``kw@NODE`` applies here (higher wins; None: not here)."""
        try:
            return self.refs.precedence(scope)
        except UnresolvedReference:
            return None  # the node list's own error is reported with DEFAULT.nodes

    def convert(self, section: IniSection, raw_key: str, raw_value: str, kw: Keyword,
                value: str) -> Any:
        try:
            return kw.convert(value)
        except ValueError as exc:
            reason = " ".join(str(exc).split())
            self.problem(section, raw_key, raw_value, f"invalid {kw.type_name}: {reason}")
            return _INVALID

    @staticmethod
    def unknown(keyword: str, table: dict[str, Keyword]) -> str:
        import difflib  # only for a bad keyword's "did you mean"

        close = difflib.get_close_matches(keyword, list(table), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown keyword {keyword!r}{hint}"


def _exposes(group: str) -> tuple[str, ...]:
    """The keywords a driver knows only at run time ({disk#1.exposed_devs[0]})."""
    spec = DRIVERS.get(group)
    return tuple(getattr(spec, "exposes", ())) if spec is not None else ()


def _raw(section: IniSection, keyword: str) -> str | None:
    """The text a keyword was given in a section (unscoped first), for a problem's line."""
    if keyword in section.options:
        return section.options[keyword]
    return next((v for k, v in section.options.items() if k.partition("@")[0] == keyword), None)


_INVALID = object()


class _Defaults(dict):
    """DEFAULT's typed values, where the file sets no ``id``: it is worked out (a uuid5 of
    the cluster and the service) when first read, since its imports (uuid, hashlib) cost
    every ``svcmgr`` run a few ms and almost none reads it."""

    def __init__(self, values: dict[str, Any], make_id: Any):
        super().__init__({k: v for k, v in values.items() if k != "id"})
        self._make_id = make_id

    def __missing__(self, key: str) -> Any:
        if key != "id":
            raise KeyError(key)
        value = self["id"] = self._make_id()
        return value

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key == "id" else super().get(key, default)
