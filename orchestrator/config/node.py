"""node.conf: this node's name, its cluster (ZooKeeper) and its collector."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from orchestrator.config import types as t
from orchestrator.config.context import DEFAULT_CLUSTER, DEFAULT_NODE_ENV, ServiceContext
from orchestrator.config.errors import ConfigError, ConfigProblem
from orchestrator.config.ini import IniSection, parse_ini
from orchestrator.config.keyword import Keyword
from orchestrator.config.keywords import NODE_SECTIONS, keywords_of
from orchestrator.config.references import text_of
from orchestrator.config.service import _Resolver
from orchestrator.paths import NodePaths, default_hostname


def _to_device_path(text: str) -> str:
    path = text.strip()
    if not path.startswith("/"):
        raise ValueError("expected an absolute path like /dev/watchdog")
    return path


# The kernel watchdog (docs/watchdog.md). Validated like every keyword (one ConfigProblem
# naming file, keyword and value); kept here until they join the table in keywords.py.
_WATCHDOG_KEYWORDS = (
    Keyword("watchdog", "node", t.choice("off", "automatic", "required"), "off",
            "Kernel watchdog armed by the fence keeper while it guards started services: off, "
            "automatic (used if the device opens), required (guard nothing without it).",
            scopable=False),
    Keyword("watchdog_device", "node", _to_device_path, "/dev/watchdog",
            "The watchdog device the fence keeper opens.", scopable=False),
)


def node_keywords(section_kind: str) -> dict[str, Keyword]:
    """Every keyword allowed in a node.conf section of this kind, by name."""
    return {**keywords_of(section_kind),
            **{k.name: k for k in _WATCHDOG_KEYWORDS if k.section == section_kind}}


class NodeConfig(NamedTuple):
    nodename: str
    paths: NodePaths
    sections: Mapping[str, Mapping[str, Any]]

    def get(self, section: str, keyword: str) -> Any:
        return self.sections[section][keyword]

    @property
    def zk_hosts(self) -> str | None:
        """``ORCHESTRATOR_ZK`` beats ``[cluster] zk``; None means a standalone node."""
        return os.environ.get("ORCHESTRATOR_ZK") or self.get("cluster", "zk")

    @property
    def is_clustered(self) -> bool:
        return bool(self.zk_hosts)

    def service_context(self) -> ServiceContext:
        """What this node's service configs resolve against: the cluster's name, id, nodes
        (``[cluster] nodes``; standalone: this node; clustered without it: unknown) and
        DNS, this node's ``[node]`` keywords and paths."""
        cluster = self.sections.get("cluster", {})
        node = self.sections.get("node", {})
        nodes = cluster.get("nodes")
        clustered = bool(os.environ.get("ORCHESTRATOR_ZK") or cluster.get("zk"))
        known = tuple(nodes) if nodes else (None if clustered else (self.nodename,))
        keywords = {k: text_of(v) for k, v in node.items() if v is not None}
        keywords["name"] = self.nodename
        return ServiceContext(
            self.paths, cluster_name=cluster.get("name") or DEFAULT_CLUSTER,
            cluster_id=cluster.get("id"), cluster_nodes=known, dns=tuple(cluster.get("dns") or ()),
            node_env=node.get("env") or DEFAULT_NODE_ENV,
            collector_url=self.sections.get("collector", {}).get("url"),
            node_keywords=MappingProxyType(keywords))

    @property
    def watchdog(self) -> str:
        """``[node] watchdog``: off, automatic or required."""
        return str(self.sections.get("node", {}).get("watchdog") or "off")

    @property
    def watchdog_device(self) -> str:
        """``[node] watchdog_device`` (default /dev/watchdog)."""
        return str(self.sections.get("node", {}).get("watchdog_device") or "/dev/watchdog")


def load_node_config(paths: NodePaths | None = None) -> NodeConfig:
    """Read node.conf (absent is fine: every keyword has a default)."""
    paths = paths or NodePaths.from_env()
    path = paths.node_conf
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise ConfigError([ConfigProblem(str(path), None, None, None, None,
                                         f"cannot read: {exc.strerror or exc}")]) from None
    sections, ini_problems = parse_ini(text)
    problems = [ConfigProblem(str(path), p.line, p.section, p.key, None, p.message)
                for p in ini_problems if not p.warning]
    env_node = os.environ.get("ORCHESTRATOR_NODE")
    provisional = env_node or default_hostname()
    resolver = _Resolver(str(path), "", provisional, sections, problems)
    resolved: dict[str, Mapping[str, Any]] = {}
    for kind in NODE_SECTIONS:
        section = sections.get(kind, IniSection(kind, 0))
        resolved[kind] = resolver.resolve_section(section, node_keywords(kind))
    for name, section in sections.items():
        if name not in NODE_SECTIONS:
            problems.append(ConfigProblem(str(path), section.line, name, None, None,
                                          f"unknown section; node.conf has "
                                          f"{', '.join(NODE_SECTIONS)}"))
    if problems:
        raise ConfigError(problems)
    nodename = env_node or resolved["node"]["name"] or default_hostname()
    return NodeConfig(nodename, paths, resolved)
