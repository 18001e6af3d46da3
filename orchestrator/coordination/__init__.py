"""The cluster store; ZooKeeper through kazoo (the only package that imports it).

``ClusterStore`` (``interface``) is the API, ``open_store(node_conf)`` (``factory``) builds
it, ``Coordinator`` is the ZooKeeper store and ``MemoryStore`` the in-memory one (tests);
the znode paths are in ``layout``; errors are in ``errors``; ``ConnectionState``, ``Lease``,
``Claim``, ``ClaimRequest``, ``RunSlot`` and ``ServiceSnapshot`` are plain values. See
docs/coordination.md.
"""

from orchestrator.coordination.coordinator import Coordinator
from orchestrator.coordination.errors import (
    AccessDenied,
    ClaimConflict,
    CoordinationError,
    FencedOut,
    InvalidName,
    LeaseHeld,
    LeaseLost,
    NodeExists,
    NoSuchNode,
    NotConnected,
    NotLeaseHolder,
    OutcomeUnknown,
    VersionConflict,
)
from orchestrator.coordination.factory import open_store
from orchestrator.coordination.interface import ClusterStore
from orchestrator.coordination.memory import MemoryCluster, MemoryStore
from orchestrator.coordination.states import (
    Claim,
    ClaimRequest,
    ConnectionState,
    Lease,
    RunSlot,
    ServiceSnapshot,
)

__all__ = [
    "AccessDenied",
    "Claim",
    "ClaimConflict",
    "ClaimRequest",
    "ClusterStore",
    "ConnectionState",
    "CoordinationError",
    "Coordinator",
    "FencedOut",
    "InvalidName",
    "Lease",
    "LeaseHeld",
    "LeaseLost",
    "MemoryCluster",
    "MemoryStore",
    "NoSuchNode",
    "NodeExists",
    "NotConnected",
    "NotLeaseHolder",
    "OutcomeUnknown",
    "RunSlot",
    "ServiceSnapshot",
    "VersionConflict",
    "open_store",
]
