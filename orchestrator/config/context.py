"""What a service config needs to know of the node reading it and of its cluster: the
cluster's name, id and nodes (``nodes = *``, ``{clusternodes}``), its DNS servers, this
node's ``[node]`` keywords (``{node.env}``) and where the node keeps its files (``{var}``).

node.conf builds one (``NodeConfig.service_context()``); a caller with no node.conf at hand
gets ``ServiceContext.standalone()``: a one-node cluster of the node reading the config.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from orchestrator.paths import NodePaths

DEFAULT_CLUSTER = "default"
DEFAULT_NODE_ENV = "TST"  # OpenSVC's node env when node.conf says none


class ServiceContext(NamedTuple):
    """The node and cluster facts references resolve against."""

    paths: NodePaths
    cluster_name: str = DEFAULT_CLUSTER
    cluster_id: str | None = None  # None: derived from the cluster name (stable)
    # the cluster's nodes, in order; None: not known here (a clustered node whose node.conf
    # has no [cluster] nodes), so ``nodes = *`` and ``{clusternodes}`` are errors
    cluster_nodes: tuple[str, ...] | None = None
    dns: tuple[str, ...] = ()
    node_env: str = DEFAULT_NODE_ENV
    collector_url: str | None = None
    node_keywords: Mapping[str, str] = MappingProxyType({})

    @classmethod
    def standalone(cls, nodename: str, paths: NodePaths | None = None) -> ServiceContext:
        """A node of its own: its cluster is itself (OpenSVC's single-node cluster)."""
        return cls(paths or NodePaths.from_env(), cluster_nodes=(nodename,))

    @property
    def clusterid(self) -> str:
        """``[cluster] id``, else a UUID derived from the cluster name: every node of the
        cluster computes the same one (OpenSVC writes a random one into cluster.conf)."""
        if self.cluster_id:
            return self.cluster_id
        import uuid  # here: a CLI that never asks pays no import (docs: bench/README.md)

        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"orchestrator:cluster:{self.cluster_name}"))

    def service_id(self, svcname: str) -> str:
        """A service's ``{id}`` when DEFAULT.id is not written: stable per cluster and name
        (OpenSVC generates a random one and writes it into the file)."""
        import uuid

        return str(uuid.uuid5(uuid.NAMESPACE_URL,
                              f"orchestrator:service:{self.clusterid}:{svcname}"))

    def var_dir(self) -> Path:
        """``{var}``: the node's var directory, created on use."""
        return _made(self.paths.var)

    def private_var(self, svcname: str) -> Path:
        """``{private_var}``: the service's own directory on this node, created on use."""
        return _made(self.paths.service_var(svcname))


def _made(path: Path) -> Path:
    """``path``, made if it is not there yet; a node root we may not write (a user running
    ``validate`` on a system node) still gets the path."""
    with contextlib.suppress(OSError):
        path.mkdir(parents=True, exist_ok=True)
    return path
