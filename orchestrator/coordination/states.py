"""Plain values that cross the package boundary: connection states, leases, claims, slots,
claim requests and service snapshots."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class ConnectionState(enum.Enum):
    """Our view of the ZooKeeper session (kazoo's states, without kazoo).

    CONNECTED: requests flow and the session is alive.
    SUSPENDED: the connection is down; the session may or may not still be alive on the
    server. Start nothing; a leaseholder must assume it may have lost its lease.
    LOST: the session is gone (expired, or the client stopped): every ephemeral node,
    leases included, is gone. A new session may follow (CONNECTED again).
    """

    CONNECTED = "connected"
    SUSPENDED = "suspended"
    LOST = "lost"


@dataclass(frozen=True)
class Lease:
    """The active-instance lease of ``svc``, held by ``node`` under fencing ``epoch``.

    Epochs strictly increase across holders: a write fenced by a lease of a lower epoch than
    the current one is refused (``FencedOut``).
    """

    svc: str
    node: str
    epoch: int
    acquired_at: float = 0.0


@dataclass(frozen=True)
class Claim:
    """A run slot claimed exactly once, cluster-wide (or per node when ``node_scoped``)."""

    svc: str
    job: str
    slot: str
    node: str
    epoch: int | None
    claimed_at: float
    node_scoped: bool = False
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSlot:
    """A persistent max_parallel slot indexed under a node: ``doc`` is the run holding it
    (None when the slot is gone and only its index entry is left); ``version`` its znode's."""

    path: str
    doc: dict[str, Any] | None
    version: int | None = None


@dataclass(frozen=True)
class ClaimRequest:
    """One slot to claim (``ClusterStore.claim_runs``)."""

    svc: str
    job: str
    slot: str
    lease: Lease | None
    node_scoped: bool = False
    payload: dict[str, Any] | None = None

    @property
    def what(self) -> str:
        return f"claim {self.svc}/{self.job}/{self.slot}"


@dataclass(frozen=True)
class ServiceSnapshot:
    """A service's cluster documents read together (``ClusterStore.service_snapshot``):
    its config text (None: not in the cluster), the lease holder (None: nobody), the users'
    target ({} when nobody asked anything) and the fencing epoch counter (0: never active)."""

    svc: str
    config: str | None
    lease: Lease | None
    target: dict[str, Any]
    epoch: int
