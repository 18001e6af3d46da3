"""The coordination errors: the only exceptions that leave this package.

kazoo's exceptions are translated at the boundary (``client.kazoo_errors``) so callers
decide on meaning (not connected, fenced, conflict), never on a ZooKeeper error code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.errors import OrchestratorError, UsageError

if TYPE_CHECKING:
    from orchestrator.coordination.states import Claim, Lease


class CoordinationError(OrchestratorError):
    """ZooKeeper refused or failed an operation (exit 1)."""


class NotConnected(CoordinationError):
    """No usable session: ZooKeeper unreachable, connection suspended, or client closed.

    While SUSPENDED the session may still be alive elsewhere, or not: act as if any
    lease is lost and start nothing.
    """


class OutcomeUnknown(NotConnected):
    """The request was sent but its answer never came (connection lost, timeout): ZooKeeper
    may or may not have applied it. Read back (e.g. ``get_claim``) once connected."""


class NoSuchNode(CoordinationError):
    """The znode (service, job, node...) does not exist."""


class NodeExists(CoordinationError):
    """The znode already exists."""


class VersionConflict(CoordinationError):
    """A versioned write lost a race with another writer."""


class AccessDenied(CoordinationError):
    """ZooKeeper's ACLs refused the operation: missing or wrong cluster secret."""


class InvalidName(CoordinationError, UsageError):
    """A service, job, node or slot name that cannot be a znode name (exit 2)."""


class LeaseHeld(CoordinationError):
    """``acquire_lease``: another node (or another session of this node) holds the lease."""

    def __init__(self, message: str, holder: Lease | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class NotLeaseHolder(CoordinationError):
    """The lease given is not held by this session any more (released, expired, or lost)."""


LeaseLost = NotLeaseHolder


class FencedOut(NotLeaseHolder):
    """The lease's epoch is stale: another holder acquired the lease since."""

    def __init__(self, message: str, current_epoch: int | None = None) -> None:
        super().__init__(message)
        self.current_epoch = current_epoch


class ClaimConflict(CoordinationError):
    """The slot was already claimed: the run belongs to someone else (or to an earlier try)."""

    def __init__(self, message: str, existing: Claim | None = None) -> None:
        super().__init__(message)
        self.existing = existing
