"""The cluster store: what a node asks of the cluster, declared once.

``ClusterStore`` is the seam between the node (agent, scheduler, run stores, actions, CLI)
and where the cluster keeps its state. Two implementations:

* ``coordinator.Coordinator``: ZooKeeper (kazoo), the real one;
* ``memory.MemoryStore``: in memory, the same semantics, for unit tests.

``factory.open_store(node_conf)`` builds the one node.conf names. Every method raises only
``orchestrator.coordination.errors`` (``NotConnected`` for any call made unless CONNECTED,
except ``holds_lease`` which says False). Names are checked (``InvalidName``) by the paths
of ``layout``. The semantics are in docs/coordination.md; the contract both implementations
pass is tests/cluster/test_coordination.py (ZooKeeper) and tests/unit/test_memory_store.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from orchestrator.coordination.errors import CoordinationError
from orchestrator.coordination.states import (
    Claim,
    ClaimRequest,
    ConnectionState,
    Lease,
    RunSlot,
    ServiceSnapshot,
)

# What a watch wakes: an Event to set, or a function called with the new value (ZooKeeper:
# in the store's dispatcher thread, never in kazoo's; in memory: in the changing thread).
Wake = threading.Event | Callable[..., None]
Listener = Callable[[ConnectionState], None]


@runtime_checkable
class ClusterStore(Protocol):
    """A node's handle on its cluster (one session: its ephemeral documents live with it)."""

    node: str

    # ------------------------------------------------------------------ session

    @property
    def state(self) -> ConnectionState: ...

    @property
    def connected(self) -> bool:
        """State is CONNECTED: requests flow (anything else: start nothing)."""
        ...

    @property
    def last_heard(self) -> float:
        """``time.monotonic()`` when the cluster last answered us (fencing counts from here)."""
        ...

    @property
    def session_id(self) -> int | None: ...

    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(state)`` on every connection state change."""

    def remove_listener(self, fn: Listener) -> None: ...

    def close(self) -> None:
        """End the session: our ephemeral documents (membership, leases, instances) go at once;
        every later call raises ``NotConnected``."""

    def __enter__(self) -> ClusterStore: ...

    def __exit__(self, *exc: object) -> None: ...

    # ------------------------------------------------------------------ membership

    def register_node(self, facts: dict[str, Any]) -> None:
        """Publish this node (ephemeral) with JSON ``facts``; again to update. Re-published by
        itself after a new session."""

    def nodes(self) -> dict[str, dict[str, Any]]:
        """Every live node and its facts."""
        ...

    def watch_nodes(self, wake: Wake) -> None:
        """Wake on membership changes (``fn(sorted names)``)."""

    # ------------------------------------------------------------------ service configs

    def put_service_config(self, svc: str, text: str) -> None: ...

    def get_service_config(self, svc: str) -> str | None: ...

    def delete_service_config(self, svc: str, purge: bool = True) -> None:
        """Remove the config; ``purge`` also removes the service's runtime tree."""

    def service_names(self) -> list[str]: ...

    def watch_services(self, wake: Wake) -> None:
        """Wake when a service config is added or removed (``fn(sorted names)``)."""

    def watch_service_config(self, svc: str, wake: Wake) -> None:
        """Wake when ``svc``'s config changes (``fn(text or None)``)."""

    # ------------------------------------------------------------------ one service at once

    def service_snapshot(self, svc: str) -> ServiceSnapshot:
        """``svc``'s config, lease holder, target and epoch, read together."""
        ...

    # ------------------------------------------------------------------ lease

    def acquire_lease(self, svc: str) -> Lease:
        """Become ``svc``'s active instance under a new, higher epoch; the current lease if
        this session holds it already. ``LeaseHeld`` (``.holder``) if another session does."""
        ...

    def release_lease(self, svc: str) -> bool:
        """Give the lease up if this session holds it; True if something was released."""
        ...

    def lease_holder(self, svc: str) -> Lease | None: ...

    def holds_lease(self, lease: Lease) -> bool:
        """``lease`` is still this session's and current (False when not connected)."""
        ...

    def current_epoch(self, svc: str) -> int:
        """The fencing epoch counter (0: never active)."""
        ...

    def watch_lease(self, svc: str, wake: Wake) -> None:
        """Wake when the lease changes hands (``fn(Lease or None)``)."""

    # ------------------------------------------------------------------ target, instances

    def get_target(self, svc: str) -> dict[str, Any]:
        """What users asked for ``svc`` ({} when nobody asked anything)."""
        ...

    def update_target(self, svc: str, change: Callable[[dict[str, Any]], dict[str, Any]]
                      ) -> dict[str, Any]:
        """Read-modify-write the target atomically; returns the new target."""
        ...

    def watch_target(self, svc: str, wake: Wake) -> None:
        """Wake when the target changes (``fn(target dict, {} when none)``)."""

    def publish_instance(self, svc: str, doc: dict[str, Any]) -> None:
        """This node's instance status of ``svc`` (ephemeral)."""

    def unpublish_instance(self, svc: str) -> None: ...

    def instances(self, svc: str) -> dict[str, dict[str, Any]]:
        """Instance status documents of ``svc`` by node (live sessions only)."""
        ...

    # ------------------------------------------------------------------ claims

    def claim_run(self, svc: str, job: str, slot: str, lease: Lease | None,
                  node_scoped: bool = False, payload: dict[str, Any] | None = None) -> Claim:
        """Claim ``slot`` exactly once (per node when ``node_scoped``), fenced by ``lease``:
        ``ClaimConflict`` (``.existing``), ``FencedOut`` (``.current_epoch``),
        ``NotLeaseHolder``, ``NotConnected``; ``OutcomeUnknown`` when sent but unanswered."""
        ...

    def claim_runs(self, requests: list[ClaimRequest]) -> list[Claim | CoordinationError]:
        """Each request as ``claim_run`` would, the error returned instead of raised; one
        outcome per request, in request order."""
        ...

    def get_claim(self, svc: str, job: str, slot: str, node: str | None = None
                  ) -> Claim | None: ...

    def claims(self, svc: str, job: str, node: str | None = None) -> list[Claim]:
        """A job's claims, oldest first (commit order)."""
        ...

    def prune_claims(self, svc: str, job: str, keep: int = 100, node: str | None = None
                     ) -> int:
        """Delete all but the newest ``keep``; how many went."""
        ...

    # ------------------------------------------------------------------ job state, run records

    def get_job_state(self, svc: str, job: str, node: str | None = None
                      ) -> dict[str, Any] | None: ...

    def set_job_state(self, svc: str, job: str, state: dict[str, Any], node: str | None = None,
                      lease: Lease | None = None) -> None:
        """Write a job's state; with ``lease``, only if it is still ours and current."""

    def append_run_record(self, svc: str, job: str, record: dict[str, Any], keep: int = 100
                          ) -> None:
        """Append to the job's bounded run history (the oldest beyond ``keep`` go)."""

    def run_records(self, svc: str, job: str | None = None) -> list[dict[str, Any]]:
        """One job's run records, or every job's merged, oldest first (commit order)."""
        ...

    # ------------------------------------------------------------------ max_parallel slots

    def persist_run_slots(self) -> None:
        """Slots taken from now on outlive this session, indexed under this node."""

    def take_run_slot(self, svc: str, rid: str, max_parallel: int, doc: dict[str, Any]
                      ) -> str | None:
        """One of ``rid``'s ``max_parallel`` slots holding ``doc``: its path, or None (full)."""
        ...

    def release_run_slot(self, path: str) -> None: ...

    def note_run_slot_command(self, path: str, pid: int, started: float | None) -> None:
        """The slot's run started a command: the slot names it (``extra``)."""

    def running_runs(self, svc: str, rid: str) -> list[dict[str, Any]]:
        """The documents of the runs holding ``rid``'s slots."""
        ...

    def node_run_slots(self, node: str) -> list[RunSlot]:
        """The persistent slots indexed under ``node``, with the run each one holds."""
        ...

    def free_run_slot(self, slot: RunSlot, node: str) -> bool:
        """Delete a slot (only if unchanged since read) and its index entry; False if it
        changed meanwhile."""
        ...
