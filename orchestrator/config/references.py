"""References in config values (``{name}``, ``{disk#1.dev}``, ``{env.x}``, ``{#nodes}``),
resolved as OpenSVC resolves them (om3's core/xconfig ``dereference`` and core/object
``Dereference``; v2's ``handle_reference``), with one deliberate difference: a reference
that resolves to nothing is an error naming it, where OpenSVC leaves the text as written
(a literal ``{nmae}`` in a command is a silent bug).

A reference is ``{[modifier:][#]expression[[N]]}``:

* ``modifier``: ``upper``, ``lower``, ``capitalize``, ``title``, ``swapcase``, ``uri_ip``;
* ``#``: the number of whitespace-separated words of the value (``{#nodes}``);
* ``[N]``: its N-th word (``{env.devs[0]}``); ``[#]`` is the count too;
* ``expression``: a name OpenSVC knows (``name``, ``nodename``, ``clusternodes``, ``var``
  ...: ``WELL_KNOWN``), ``node.<keyword>`` (node.conf's ``[node]``), ``env.<var>`` (the
  ``[env]`` section, then the process environment), ``<section>.<keyword>``, or a bare
  ``<keyword>``: the referencing section's own, else DEFAULT's.

A keyword's value is its text as written for this node (scoping applies), with its own
references resolved, or its table default. A keyword a driver only knows at run time
(``DriverSpec.exposes``: ``{disk#1.exposed_devs[0]}``) is left as written for the driver.

Not references, left alone: ``${VAR}``, ``{{go.template}}``, and a bare word that is no
reference inside single quotes (``awk '{print}'``); braces with spaces, commas or quotes
(``awk '{print $1}'``, ``{a,b}``, JSON) never match.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from orchestrator.config.context import DEFAULT_NODE_ENV, ServiceContext
from orchestrator.config.ini import IniSection
from orchestrator.config.keyword import Keyword

PATTERN = re.compile(r"(?<![$\{])\{(?P<ref>[#\w][\w#.:/@\[\]+-]*)\}(?!\})")
_INDEX = re.compile(r"^(?P<base>.+)\[(?P<index>\d+|#)\]$")
_BRACE_RANGE = re.compile(r"^\w+\.\.\w+$")  # shell brace expansion {1..10}, not a reference
MODIFIERS: dict[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "capitalize": lambda s: s[:1].upper() + s[1:],
    "title": str.title,
    "swapcase": str.swapcase,
    "uri_ip": lambda s: f"[{s}]" if ":" in s else s,
}
# keywords every driver exposes at run time (OpenSVC v2's DEFER list); DriverSpec.exposes adds
RUNTIME_KEYWORDS = ("exposed_devs", "sub_devs", "base_devs")
NAMESPACE, KIND = "root", "svc"  # one namespace, one kind of object here


class UnresolvedReference(ValueError):
    """A reference that cannot be resolved; the message names it and says why."""


class Deferred(Exception):
    """A reference only a driver can resolve, at run time: the text stays as written."""


TableOf = Callable[[str], Mapping[str, Keyword]]


class References:
    """Resolves the references of one service config, for one node."""

    def __init__(self, sections: Mapping[str, IniSection], svcname: str, nodename: str,
                 context: ServiceContext, table_of: TableOf,
                 exposes: Callable[[str], tuple[str, ...]] = lambda group: ()):
        self.sections = sections
        self.svcname = svcname
        self.nodename = nodename
        self.context = context
        self.table_of = table_of  # the keyword table of a section name
        self.exposes = exposes  # the run-time keywords of a driver group
        self.unsupported: set[str] = set()  # sections of drivers we lack: their refs stay
        self._nodes: tuple[str, ...] | None = None
        self._drpnodes: tuple[str, ...] | None = None
        self._stack: list[str] = []
        # per section: keyword or alias -> its names (keyword first), and the section's
        # options split into (name, scope, value): raw() is asked for every keyword of
        # every resource (DEFAULT inheritance), so neither is worked out again each time
        self._names: dict[str, dict[str, tuple[str, ...]]] = {}
        self._split: dict[str, list[tuple[str, str, str]]] = {}

    # ------------------------------------------------------------------ node lists

    @property
    def nodes(self) -> tuple[str, ...]:
        """DEFAULT.nodes expanded (``*``, globs, references); unset or empty: this node."""
        if self._nodes is None:
            self._nodes = self._node_list("nodes") or (self.nodename,)
        return self._nodes

    @property
    def drpnodes(self) -> tuple[str, ...]:
        if self._drpnodes is None:
            self._drpnodes = self._node_list("drpnodes")
        return self._drpnodes

    def _node_list(self, keyword: str) -> tuple[str, ...]:
        from orchestrator.config import selectors

        key = f"DEFAULT.{keyword}"
        if key in self._stack:  # nodes = {env.x} where env.x is scoped @nodes
            raise UnresolvedReference(f"reference loop: {' -> '.join([*self._stack, key])}")
        default = self.sections.get("DEFAULT")
        options = default.options if default else {}
        # nodes@NODE is how that node reads it; the other scopes (@nodes, @drpnodes,
        # @encapnodes) would depend on the list itself
        raw = options.get(f"{keyword}@{self.nodename}", options.get(keyword))
        if not raw:
            return ()
        words = tuple(re.split(r"[\s,]+", self._guarded(key, raw, "DEFAULT")))
        try:
            return selectors.expand(tuple(w for w in words if w), self.context.cluster_nodes)
        except selectors.SelectorError as exc:
            raise UnresolvedReference(str(exc)) from None

    # ------------------------------------------------------------------ scoping

    def precedence(self, scope: str) -> int | None:
        """Which of ``kw``, ``kw@nodes``, ``kw@drpnodes``, ``kw@NODE`` applies here (higher
        wins; None: not on this node). @nodes needs the node list: resolving it may raise."""
        if not scope:
            return 0
        if scope == self.nodename:
            return 2
        if scope == "nodes":
            return 1 if self.nodename in self.nodes else None
        if scope == "drpnodes":
            return 1 if self.nodename in self.drpnodes else None
        if scope == "encapnodes":
            return None  # no encapsulated agents here
        return None

    def names_of(self, section: str, keyword: str) -> tuple[str, ...]:
        """``keyword``'s names in ``section``'s table (the keyword, then its aliases), found
        by any of them; ``(keyword,)`` for a keyword the table lacks."""
        names = self._names.get(section)
        if names is None:
            names = self._names[section] = {}
            for kw in self.table_of(section).values():
                both = (kw.name, *kw.aliases)
                for alias in kw.aliases:
                    names.setdefault(alias, both)
                names[kw.name] = both
        return names.get(keyword) or (keyword,)

    def options_of(self, section: str) -> list[tuple[str, str, str]]:
        """``section``'s options as (keyword as written, scope, value), in file order."""
        split = self._split.get(section)
        if split is None:
            sec = self.sections.get(section)
            split = self._split[section] = [] if sec is None else [
                (*raw_key.partition("@")[::2], value) for raw_key, value in sec.options.items()]
        return split

    def raw(self, section: str, keyword: str) -> str | None:
        """The text of ``keyword`` (or an alias of it) in ``section`` for this node."""
        if section not in self.sections:
            return None
        names = self.names_of(section, keyword)
        best: tuple[int, str] | None = None
        for name, scope, value in self.options_of(section):
            if name not in names:
                continue
            level = self.precedence(scope)
            if level is None:
                continue
            rank = level * 2 + (1 if name == names[0] else 0)
            if best is None or rank > best[0]:
                best = (rank, value)
        return None if best is None else best[1]

    # ------------------------------------------------------------------ expansion

    def expand_keyword(self, section: str, keyword: str, text: str) -> str:
        """The written value of ``section.keyword``, its references resolved (a reference
        back to itself is a loop)."""
        return self._guarded(f"{section}.{keyword}", text, section)

    def expand(self, text: str, section: str) -> str:
        """``text`` with its references resolved, as seen from ``section``."""
        if "{" not in text:
            return text
        quoted = _single_quoted_spans(text)

        def sub(m: re.Match[str]) -> str:
            ref = m.group("ref")
            if _BRACE_RANGE.match(ref):
                return m.group(0)
            try:
                return self.resolve(ref, section)
            except Deferred:
                return m.group(0)
            except UnresolvedReference:
                if _is_bare_word(ref) and any(a <= m.start() < b for a, b in quoted):
                    return m.group(0)  # awk '{print}': shell text, not a reference
                raise

        return PATTERN.sub(sub, text)

    def resolve(self, ref: str, section: str) -> str:
        """The value of one reference (the text between the braces)."""
        expression = ref
        modifier: Callable[[str], str] = str
        head, sep, rest = expression.partition(":")
        if sep and head in MODIFIERS:
            modifier, expression = MODIFIERS[head], rest
        count = expression.startswith("#")
        expression = expression.lstrip("#")
        index: str | None = None
        m = _INDEX.match(expression)
        if m:
            expression, index = m.group("base"), m.group("index")
        try:
            value = self._value(expression, section)
        except UnresolvedReference as exc:
            if str(exc).startswith("unresolved reference "):
                raise  # a reference of the referenced value: that one is the culprit
            raise UnresolvedReference(f"unresolved reference {{{ref}}}: {exc}") from None
        if count or index == "#":
            return str(len(value.split()))
        if index is not None:
            words = value.split()
            if int(index) >= len(words):
                raise UnresolvedReference(
                    f"unresolved reference {{{ref}}}: index {index} is out of range "
                    f"({len(words)} word{'' if len(words) == 1 else 's'} in {value!r})")
            value = words[int(index)]
        return modifier(value)

    def _value(self, expression: str, section: str) -> str:
        known = _WELL_KNOWN.get(expression)
        if known is not None:
            return known(self, section)
        if expression.startswith("safe://"):
            raise UnresolvedReference("the collector's safe is not supported here; put the value "
                                 "in the config or the environment")
        if expression.startswith("node."):
            return self._node_keyword(expression[5:])
        if expression.startswith(("env.", "data.")):
            head, _, name = expression.partition(".")
            if head == "env":
                return self._env(name)
            raise UnresolvedReference("data sections are for OpenSVC cfg and sec objects")
        if "." in expression:
            target, _, keyword = expression.rpartition(".")
            return self._keyword(target, keyword, explicit=True)
        unset: UnresolvedReference | None = None  # a keyword of the table, not written
        for where in (section, "DEFAULT") if section not in ("DEFAULT", "env") else ("DEFAULT",):
            try:
                return self._keyword(where, expression, explicit=False)
            except UnresolvedReference as exc:
                if unset is None and expression in self.table_of(where):
                    unset = exc
        if unset is not None:
            raise unset
        raise UnresolvedReference(
            "not a reference OpenSVC knows, nor a keyword of "
            + (f"[{section}] or " if section not in ("DEFAULT", "env") else "") + "[DEFAULT]")

    def _keyword(self, section: str, keyword: str, explicit: bool) -> str:
        if section == "DEFAULT" and keyword in ("nodes", "drpnodes"):
            return " ".join(self.nodes if keyword == "nodes" else self.drpnodes)
        group = section.partition("#")[0]
        if section in self.unsupported:
            raw = self.raw(section, keyword)
            if raw is None:
                raise Deferred()
            try:
                return self._guarded(f"{section}.{keyword}", raw, section)
            except UnresolvedReference:
                raise Deferred() from None  # its driver's error says enough
        if section != "DEFAULT" and section not in self.sections:
            raise UnresolvedReference(f"no section [{section}] in this service")
        raw = self.raw(section, keyword)
        if raw is not None:
            return self._guarded(f"{section}.{keyword}", raw, section)
        if keyword in RUNTIME_KEYWORDS or keyword in self.exposes(group) or (
                group == "volume" and keyword == "mnt"):
            raise Deferred()
        computed = _DEFAULT_COMPUTED.get(keyword) if section == "DEFAULT" else None
        if computed is not None:
            return computed(self)
        kw = self.table_of(section).get(keyword)
        if kw is None:
            raise UnresolvedReference(f"[{section}] has no keyword {keyword!r}" if explicit else
                                 f"no keyword {keyword!r} in [{section}]")
        if kw.default is None:
            raise UnresolvedReference(f"{section}.{keyword} is not set and has no default")
        return text_of(kw.default)

    def _env(self, name: str) -> str:
        if "env" in self.sections:
            raw = self.raw("env", name)
            if raw is not None:
                return self._guarded(f"env.{name}", raw, "env")
        if name in os.environ:
            return os.environ[name]
        raise UnresolvedReference("no such variable in [env] or the environment")

    def _node_keyword(self, name: str) -> str:
        if name in ("name", "nodename"):
            return self.nodename
        if name == "env":
            return self.context.node_env
        value = self.context.node_keywords.get(name)
        if value is None:
            raise UnresolvedReference(f"node.conf's [node] has no {name!r}")
        return value

    def _guarded(self, key: str, raw: str, section: str) -> str:
        """``raw`` expanded, refusing a reference loop (a -> b -> a)."""
        if key in self._stack:
            loop = " -> ".join([*self._stack[self._stack.index(key):], key])
            raise UnresolvedReference(f"reference loop: {loop}")
        self._stack.append(key)
        try:
            return self.expand(raw, section)
        finally:
            self._stack.pop()


def text_of(value: Any) -> str:
    """A typed default as config text: a list's words, a bool's true/false, 30.0 as 30."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (tuple, list)):
        return " ".join(text_of(v) for v in value)
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _is_bare_word(ref: str) -> bool:
    return re.fullmatch(r"\w+", ref) is not None


def _single_quoted_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, ch in enumerate(text):
        if ch == "'":
            if start is None:
                start = i
            else:
                spans.append((start, i))
                start = None
    return spans


def _program(name: str) -> str:
    """The path of one of our commands (``{svcmgr}``): beside this interpreter, as a venv
    installs it, else the bare name (found on PATH)."""
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


def _clusternodes(r: References, _section: str) -> str:
    if r.context.cluster_nodes is None:
        raise UnresolvedReference("the cluster's nodes are not known on this node: set "
                             "[cluster] nodes in node.conf")
    return " ".join(r.context.cluster_nodes)


def _dnsnodes(r: References, _section: str) -> str:
    """The cluster nodes whose address is one of the cluster's DNS servers (om3: a reverse
    lookup of each); none: this node."""
    names = []
    for address in r.context.dns:
        try:
            import socket  # only for {dnsnodes}: not on every config's path

            host = socket.gethostbyaddr(address)[0].rstrip(".")
        except OSError:
            continue
        short = host.split(".")[0]
        for node in r.context.cluster_nodes or ():
            if node in (host, short) and node not in names:
                names.append(node)
    return " ".join(names) or r.nodename


def _collector_api(r: References, _section: str) -> str:
    if not r.context.collector_url:
        raise UnresolvedReference("no [collector] url in node.conf")
    return r.context.collector_url


def _scaler(name: str) -> str:
    return re.sub(r"^[0-9]+\.", "", name)


_WELL_KNOWN: dict[str, Callable[[References, str], str]] = {
    "name": lambda r, s: r.svcname,
    "svcname": lambda r, s: r.svcname,
    "short_name": lambda r, s: r.svcname.split(".")[0],
    "short_svcname": lambda r, s: r.svcname.split(".")[0],
    "scaler_name": lambda r, s: _scaler(r.svcname),
    "scaler_svcname": lambda r, s: _scaler(r.svcname),
    "scaler_short_name": lambda r, s: _scaler(r.svcname).split(".")[0],
    "scaler_short_svcname": lambda r, s: _scaler(r.svcname).split(".")[0],
    "namespace": lambda r, s: NAMESPACE,
    "kind": lambda r, s: KIND,
    "path": lambda r, s: r.svcname,  # om3: the root namespace's svc path is the bare name
    "svcpath": lambda r, s: r.svcname,
    "fqdn": lambda r, s: f"{r.svcname}.{NAMESPACE}.{KIND}.{r.context.cluster_name}",
    "domain": lambda r, s: f"{NAMESPACE}.{KIND}.{r.context.cluster_name}",
    "id": lambda r, s: r._keyword("DEFAULT", "id", explicit=False),
    "nodename": lambda r, s: r.nodename,
    "short_nodename": lambda r, s: r.nodename.split(".")[0],
    "rid": lambda r, s: s,
    "rindex": lambda r, s: s.split("#", 1)[1] if "#" in s else s,
    "rgroup": lambda r, s: s.split("#", 1)[0],
    "clustername": lambda r, s: r.context.cluster_name,
    "clusterid": lambda r, s: r.context.clusterid,
    "clusternodes": _clusternodes,
    "dns": lambda r, s: " ".join(r.context.dns),
    "dnsnodes": _dnsnodes,
    "dnsuxsockd": lambda r, s: str(r.context.paths.var / "dns"),
    "dnsuxsock": lambda r, s: str(r.context.paths.var / "dns" / "pdns.sock"),
    "dns_janitor_major": lambda r, s: "3",  # om3's; v2 said 1
    "svcmgr": lambda r, s: _program("svcmgr"),
    "nodemgr": lambda r, s: _program("nodemgr"),
    "etc": lambda r, s: str(r.context.paths.etc),
    "var": lambda r, s: str(r.context.var_dir()),
    "private_var": lambda r, s: str(r.context.private_var(r.svcname)),
    "initd": lambda r, s: str(r.context.paths.services_dir / f"{r.svcname}.d"),
    "collector_api": _collector_api,
}


def _no_clusterdrpnodes(r: References, _section: str) -> str:
    raise UnresolvedReference("OpenSVC v3 dropped it (the cluster has no DRP node list); "
                         "write the service's drpnodes")


_WELL_KNOWN["clusterdrpnodes"] = _no_clusterdrpnodes

# DEFAULT keywords whose unwritten value is computed, not a constant of the table
_DEFAULT_COMPUTED: dict[str, Callable[[References], str]] = {
    "id": lambda r: r.context.service_id(r.svcname),
    "env": lambda r: r.context.node_env or DEFAULT_NODE_ENV,
}

WELL_KNOWN = tuple(sorted(_WELL_KNOWN))
