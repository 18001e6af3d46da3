"""Coordination through ZooKeeper: the only package that imports kazoo.

``Coordinator`` is the API; errors are in ``errors``; ``ConnectionState``, ``Lease`` and
``Claim`` are plain values. See docs/coordination.md.
"""

from orchestrator.coordination.coordinator import ClaimRequest, Coordinator
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
from orchestrator.coordination.states import Claim, ConnectionState, Lease, RunSlot

__all__ = [
    "AccessDenied",
    "Claim",
    "ClaimConflict",
    "ClaimRequest",
    "ConnectionState",
    "CoordinationError",
    "Coordinator",
    "FencedOut",
    "InvalidName",
    "Lease",
    "LeaseHeld",
    "LeaseLost",
    "NoSuchNode",
    "NodeExists",
    "NotConnected",
    "NotLeaseHolder",
    "OutcomeUnknown",
    "RunSlot",
    "VersionConflict",
]
