"""The one place a node's cluster store is built, from its node.conf."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.coordination.interface import ClusterStore


def open_store(node: NodeConfig, *, connect_timeout: float = 10.0) -> ClusterStore:
    """This node's session on its cluster (``[cluster] zk, name, secret, session_timeout``).

    Connects before returning: ``NotConnected`` if ZooKeeper does not answer within
    ``connect_timeout``, ``AccessDenied`` if the secret does not match the cluster's.
    kazoo is imported here, not before: a standalone node never loads it.
    """
    from orchestrator.coordination.errors import NotConnected

    if not node.zk_hosts:
        raise NotConnected(f"node {node.nodename} is standalone: node.conf names no ZooKeeper "
                           "([cluster] zk)")
    from orchestrator.coordination.coordinator import Coordinator

    return Coordinator(node.zk_hosts, node.get("cluster", "name"),
                       node.get("cluster", "secret"),
                       float(node.get("cluster", "session_timeout")),
                       node.nodename, connect_timeout=connect_timeout)
