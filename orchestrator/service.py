"""A service as this node sees it: its validated config, its run records and local state."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from orchestrator.config.node import NodeConfig
from orchestrator.config.service import ResourceConfig, ServiceConfig, load_service
from orchestrator.errors import UsageError
from orchestrator.runs import FileRunStore, RunStore


def natural_key(rid: str) -> tuple[Any, ...]:
    """Order rids like people do: task#2 before task#10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", rid))


class Service:
    """A service's config on a node. Views read through the cluster set ``clustered``, the
    lease holder (``active_node``) and the cluster store's ``claims(svc, job, node)`` (the
    scheduler's runs). A plain class, not a dataclass: svcmgr's start-up (bench/README.md)."""

    def __init__(self, config: ServiceConfig, node: NodeConfig, clustered: bool = False,
                 active_node: str | None = None,
                 claims: Callable[..., list[Any]] | None = None):
        self.config = config
        self.node = node
        self.clustered = clustered
        self.active_node = active_node
        self.claims = claims

    def __repr__(self) -> str:
        return f"Service({self.config.name!r}, node={self.node.nodename!r})"

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def nodename(self) -> str:
        return self.node.nodename

    @property
    def var(self) -> Path:
        return self.node.paths.service_var(self.name)

    @cached_property
    def runs(self) -> RunStore:
        return FileRunStore(self.var / "runs")

    @cached_property
    def state(self) -> LocalState:
        return LocalState(self.var / "state.json")

    @cached_property
    def _in_order(self) -> tuple[ResourceConfig, ...]:
        """Resources in rid order, sorted once (the status of 1,000 services every 10 s)."""
        return tuple(sorted(self.config.resources.values(), key=lambda r: natural_key(r.rid)))

    def resources(self, driver: str | None = None) -> list[ResourceConfig]:
        return [r for r in self._in_order if driver in (None, r.driver)]

    def tasks(self) -> list[ResourceConfig]:
        return self.resources("task")

    def resource(self, rid: str) -> ResourceConfig:
        return self.config.resources[rid]


class LocalState:
    """Small JSON state of this node's instance (e.g. apps started with no check command)."""

    def __init__(self, path: Path):
        self.path = path

    def read(self) -> dict[str, Any]:
        """The state; {} when there is none, or it is unreadable (rewritten whole next)."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def update(self, section: str, key: str, value: Any) -> None:
        """Set one ``section.key``."""
        self.modify(lambda data: data.setdefault(section, {}).__setitem__(key, value))

    def modify(self, edit: Callable[[dict[str, Any]], None]) -> None:
        """One read-modify-write, whole against the other threads of this process (the
        monitor restarting an app while the status job writes its status)."""
        with _lock_of(self.path):
            data = self.read()
            edit(data)
            self.write(data)

    def write(self, data: dict[str, Any]) -> None:
        """Replace the whole state atomically (a reader never sees half a file)."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            tmp.write_text(json.dumps(data, sort_keys=True))
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, self.path)


_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _lock_of(path: Path) -> threading.Lock:
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(path, threading.Lock())


def service_names(node: NodeConfig) -> list[str]:
    directory = node.paths.services_dir
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.conf"))


def load(node: NodeConfig, svcname: str) -> Service:
    """Load service ``svcname`` on this node; unknown service or bad config -> exit 2."""
    path = node.paths.service_conf(svcname)
    if not path.exists():
        raise UsageError(f"unknown service {svcname!r}: no config file {path}")
    return Service(load_service(path, svcname, node.nodename, node.service_context()), node)
