"""The cluster store in memory: ``ClusterStore`` with ZooKeeper's semantics, for unit tests.

``MemoryCluster`` is the server: znodes by path (the paths of ``layout``, the documents of
``codec``), each with a version, a creation order (ZooKeeper's czxid) and, when ephemeral,
the session that owns it. ``MemoryStore(node, cluster)`` is one node's session on it, so
several stores on one cluster are several nodes:

    cluster = MemoryCluster()
    n1, n2 = MemoryStore("n1", cluster), MemoryStore("n2", cluster)

What only a test does: ``suspend()`` / ``resume()`` (the connection goes down and comes
back; the session survives), ``expire()`` (the session is lost: its ephemeral znodes go,
then a new session connects, as kazoo's does), ``lose_answers(landed)`` (claims are sent
but their answers never come: ``OutcomeUnknown``, the claim made or not), and
``fail(method, error)`` (that method raises ``error`` until ``fail(method, None)``).

Listeners and watch callbacks run in the thread that made the change (ZooKeeper's run in a
dispatcher thread): after the change, outside the cluster's lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from orchestrator.coordination import codec, layout
from orchestrator.coordination.errors import (
    ClaimConflict,
    CoordinationError,
    FencedOut,
    LeaseHeld,
    NotConnected,
    NotLeaseHolder,
    OutcomeUnknown,
)
from orchestrator.coordination.interface import Listener, Wake
from orchestrator.coordination.memory_runs import MemoryRuns
from orchestrator.coordination.memory_tree import MemoryCluster, _Watch
from orchestrator.coordination.states import (
    Claim,
    ClaimRequest,
    ConnectionState,
    Lease,
    ServiceSnapshot,
)


class MemoryStore(MemoryRuns):
    """One node's session on a ``MemoryCluster`` (a new cluster when none is given)."""

    def __init__(self, node: str, cluster: MemoryCluster | None = None) -> None:
        self.node = layout.check_name("node", node)
        self.cluster = cluster if cluster is not None else MemoryCluster()
        self._session: int | None = self.cluster.new_session()
        self._state = ConnectionState.CONNECTED
        self._listeners: list[Listener] = []
        self._facts: dict[str, Any] | None = None
        self._persistent_slots = False
        self._suspended_at: float | None = None
        self._answers_lost: bool | None = None
        self._faults: dict[str, CoordinationError] = {}

    # ------------------------------------------------------------------ test controls

    def suspend(self) -> None:
        """The connection goes down (the session lives on): every call is refused."""
        self._suspended_at = time.monotonic()
        self._set_state(ConnectionState.SUSPENDED)

    def resume(self) -> None:
        """The connection is back in the same session (leases kept)."""
        self._suspended_at = None
        self._set_state(ConnectionState.CONNECTED)
        self._refire_watches()

    def expire(self) -> None:
        """The session is lost (its ephemeral znodes go), then a new one connects; membership
        is re-published by itself, leases are not."""
        with self.cluster.lock:
            if self._session is not None:
                self.cluster.drop_session(self._session)
            self._session = self.cluster.new_session()
        self.cluster.notify()
        self._set_state(ConnectionState.LOST)
        self._suspended_at = None
        self._set_state(ConnectionState.CONNECTED)
        if self._facts is not None:
            self.register_node(self._facts)
        self._refire_watches()

    def lose_answers(self, landed: bool | None) -> None:
        """Claims from now on are sent but unanswered (``OutcomeUnknown``), made if
        ``landed``; None: answers come again."""
        self._answers_lost = landed

    def fail(self, method: str, error: CoordinationError | None) -> None:
        """``method`` raises ``error`` from now on (None: works again)."""
        if error is None:
            self._faults.pop(method, None)
        else:
            self._faults[method] = error

    # ------------------------------------------------------------------ session

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def connected(self) -> bool:
        return self._state is ConnectionState.CONNECTED and self._session is not None

    @property
    def last_heard(self) -> float:
        """While connected the server answers all the time (pings); else when it stopped."""
        return self._suspended_at if self._suspended_at is not None else time.monotonic()

    @property
    def session_id(self) -> int | None:
        return self._session

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def close(self) -> None:
        with self.cluster.lock:
            if self._session is None:
                return
            self.cluster.drop_session(self._session)
            self._session = None
            self.cluster.watches = [w for w in self.cluster.watches if w.store is not self]
        self.cluster.notify()
        self._set_state(ConnectionState.LOST)

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _set_state(self, state: ConnectionState) -> None:
        self._state = state
        for fn in list(self._listeners):
            fn(state)

    def _require(self, method: str, what: str = "") -> int:
        """This session, or the refusal the ZooKeeper store gives; raises an injected fault."""
        if method in self._faults:
            raise self._faults[method]
        if self._session is None:
            raise NotConnected("coordinator closed")
        if self._state is not ConnectionState.CONNECTED:
            where = f"{what}: " if what else ""
            raise NotConnected(f"{where}ZooKeeper connection is {self._state.value}; refusing")
        return self._session

    # ------------------------------------------------------------------ watches

    def wake_up(self, wake: Wake, value: Any) -> None:
        if isinstance(wake, threading.Event):
            wake.set()
        else:
            wake(value)

    def _watch(self, path: str, wake: Wake, children: bool,
               convert: Callable[[bytes | None], Any] = lambda d: d) -> None:
        if self._session is None:
            raise NotConnected("coordinator closed")
        w = _Watch(self, path, children, wake, convert)
        with self.cluster.lock:
            self.cluster.watches.append(w)
            value = self.cluster._value(w)
        if self.connected:  # like kazoo's recipes: called once at once with the value
            self.wake_up(wake, value)

    def _refire_watches(self) -> None:
        with self.cluster.lock:
            fire = [(w, self.cluster._value(w)) for w in self.cluster.watches if w.store is self]
        for w, value in fire:
            self.wake_up(w.wake, value)

    def watch_nodes(self, wake: Wake) -> None:
        self._watch(layout.NODES, wake, children=True)

    def watch_services(self, wake: Wake) -> None:
        self._watch(layout.CONFIGS, wake, children=True)

    def watch_service_config(self, svc: str, wake: Wake) -> None:
        self._watch(layout.config_path(svc), wake, False,
                    lambda d: None if d is None else d.decode())

    def watch_lease(self, svc: str, wake: Wake) -> None:
        path = layout.lease_path(svc)
        self._watch(path, wake, False, lambda d: codec.lease_from(svc, d, path))

    def watch_target(self, svc: str, wake: Wake) -> None:
        path = layout.target_path(svc)
        self._watch(path, wake, False, lambda d: codec.decode(d, path) or {})

    # ------------------------------------------------------------------ membership

    def register_node(self, facts: dict[str, Any]) -> None:
        with self.cluster.lock:
            session = self._require("register_node")
            self._facts = dict(facts)
            c, path, data = self.cluster, layout.node_path(self.node), codec.encode(self._facts)
            z = c.get(path)
            if z is not None and z.owner == session:
                c.set(path, data)  # an update in place
            else:  # a leftover of an earlier session, or an impostor: replaced
                c.delete(path)
                c.create(path, data, owner=session)
        self.cluster.notify()

    def nodes(self) -> dict[str, dict[str, Any]]:
        with self.cluster.lock:
            self._require("nodes")
            return {layout.name_of(p): codec.decode(z.data, p) or {}
                    for p, z in sorted(self.cluster.by_age(layout.NODES))}

    # ------------------------------------------------------------------ service configs

    def put_service_config(self, svc: str, text: str) -> None:
        with self.cluster.lock:
            self._require("put_service_config")
            path = layout.config_path(svc)
            if self.cluster.create(path, text.encode()) is None:
                self.cluster.set(path, text.encode())
        self.cluster.notify()

    def get_service_config(self, svc: str) -> str | None:
        with self.cluster.lock:
            self._require("get_service_config")
            z = self.cluster.get(layout.config_path(svc))
            return None if z is None else z.data.decode()

    def delete_service_config(self, svc: str, purge: bool = True) -> None:
        with self.cluster.lock:
            self._require("delete_service_config")
            self.cluster.delete(layout.config_path(svc))
            if purge:
                self.cluster.delete_tree(layout.service_path(svc))
        self.cluster.notify()

    def service_names(self) -> list[str]:
        with self.cluster.lock:
            self._require("service_names")
            return self.cluster.children(layout.CONFIGS)

    def service_snapshot(self, svc: str) -> ServiceSnapshot:
        with self.cluster.lock:
            self._require("service_snapshot", f"read service {svc}")
            return ServiceSnapshot(svc, self.get_service_config(svc), self.lease_holder(svc),
                                   self.get_target(svc), self.current_epoch(svc))

    # ------------------------------------------------------------------ lease

    def _lease(self, svc: str) -> tuple[Lease | None, int | None]:
        path = layout.lease_path(svc)
        z = self.cluster.get(path)
        return (None, None) if z is None else (codec.lease_from(svc, z.data, path), z.owner)

    def acquire_lease(self, svc: str) -> Lease:
        with self.cluster.lock:
            session = self._require("acquire_lease", f"acquire lease of {svc}")
            holder, owner = self._lease(svc)
            if holder is not None and owner == session:
                return holder
            if holder is not None:
                raise LeaseHeld(
                    f"lease of {svc} held by node {holder.node} (epoch {holder.epoch})"
                    + (" in another session of this node" if holder.node == self.node else ""),
                    holder,
                )
            epath = layout.epoch_path(svc)
            self.cluster.create(epath, codec.encode({"node": None, "epoch": 0}))
            epoch_node = self.cluster.get(epath)
            assert epoch_node is not None
            lease = Lease(svc, self.node, epoch_node.version + 1, time.time())
            doc = codec.encode({"node": self.node, "epoch": lease.epoch,
                                "acquired_at": lease.acquired_at})
            self.cluster.set(epath, doc)
            self.cluster.create(layout.lease_path(svc), doc, owner=session)
        self.cluster.notify()
        return lease

    def release_lease(self, svc: str) -> bool:
        with self.cluster.lock:
            session = self._require("release_lease")
            _, owner = self._lease(svc)
            released = owner == session and self.cluster.delete(layout.lease_path(svc))
        self.cluster.notify()
        return released

    def lease_holder(self, svc: str) -> Lease | None:
        with self.cluster.lock:
            self._require("lease_holder")
            return self._lease(svc)[0]

    def holds_lease(self, lease: Lease) -> bool:
        if not self.connected:
            return False
        with self.cluster.lock:
            holder, owner = self._lease(lease.svc)
            return holder is not None and holder.epoch == lease.epoch and owner == self._session

    def current_epoch(self, svc: str) -> int:
        with self.cluster.lock:
            self._require("current_epoch")
            z = self.cluster.get(layout.epoch_path(svc))
            return 0 if z is None else z.version

    def _check_lease(self, lease: Lease | None, svc: str, what: str) -> None:
        """The fencing checks of a write under ``lease`` (as the ZooKeeper transaction's)."""
        if lease is None:
            return
        if layout.lease_owner(lease.svc)[0] != svc:  # its own, or a flex instance slot's
            raise NotLeaseHolder(f"{what}: lease is for service {lease.svc}, not {svc}")
        if lease.node != self.node:
            raise NotLeaseHolder(f"{what}: lease belongs to node {lease.node}, not {self.node}")
        z = self.cluster.get(layout.epoch_path(lease.svc))
        if z is None or z.version != lease.epoch:
            epoch = z.version if z is not None else None
            raise FencedOut(
                f"{what}: fenced out, lease epoch {lease.epoch} of {lease.svc} is stale"
                + (f" (current epoch {epoch})" if epoch is not None else ""),
                epoch,
            )
        if self.cluster.get(layout.lease_path(lease.svc)) is None:
            raise NotLeaseHolder(f"{what}: node {self.node} no longer holds the lease of {svc}")

    # ------------------------------------------------------------------ target, instances

    def get_target(self, svc: str) -> dict[str, Any]:
        with self.cluster.lock:
            self._require("get_target")
            path = layout.target_path(svc)
            z = self.cluster.get(path)
            return {} if z is None else codec.decode(z.data, path) or {}

    def update_target(self, svc: str, change: Callable[[dict[str, Any]], dict[str, Any]]
                      ) -> dict[str, Any]:
        with self.cluster.lock:
            self._require("update_target", f"update target of {svc}")
            new = change(dict(self.get_target(svc)))
            path = layout.target_path(svc)
            if self.cluster.create(path, codec.encode(new)) is None:
                self.cluster.set(path, codec.encode(new))
        self.cluster.notify()
        return new

    def publish_instance(self, svc: str, doc: dict[str, Any]) -> None:
        with self.cluster.lock:
            session = self._require("publish_instance", f"publish instance of {svc}")
            path = layout.instance_path(svc, self.node)
            if not self.cluster.set(path, codec.encode(doc)):
                self.cluster.create(path, codec.encode(doc), owner=session)
        self.cluster.notify()

    def unpublish_instance(self, svc: str) -> None:
        with self.cluster.lock:
            self._require("unpublish_instance")
            self.cluster.delete(layout.instance_path(svc, self.node))
        self.cluster.notify()

    def instances(self, svc: str) -> dict[str, dict[str, Any]]:
        with self.cluster.lock:
            self._require("instances")
            return {layout.name_of(p): codec.decode(z.data, p) or {}
                    for p, z in sorted(self.cluster.by_age(layout.instances_path(svc)))}

    # ------------------------------------------------------------------ claims

    def claim_run(self, svc: str, job: str, slot: str, lease: Lease | None,
                  node_scoped: bool = False, payload: dict[str, Any] | None = None) -> Claim:
        request = ClaimRequest(svc, job, slot, lease, node_scoped, payload)
        self._require("claim_run", request.what)
        return self._claim(request)

    def claim_runs(self, requests: list[ClaimRequest]) -> list[Claim | CoordinationError]:
        try:
            self._require("claim_runs", "claim run slots")
        except CoordinationError as exc:
            return [exc for _ in requests]
        outcomes: list[Claim | CoordinationError] = []
        for request in requests:
            try:
                outcomes.append(self._claim(request))
            except CoordinationError as exc:
                outcomes.append(exc)
        return outcomes

    def _claim(self, r: ClaimRequest) -> Claim:
        scope = self.node if r.node_scoped else None
        path = layout.claim_path(r.svc, r.job, r.slot, scope)
        claim = Claim(r.svc, r.job, r.slot, self.node, r.lease.epoch if r.lease else None,
                      time.time(), r.node_scoped, dict(r.payload or {}))
        with self.cluster.lock:
            self._check_lease(r.lease, r.svc, r.what)
            if self._answers_lost is False:
                raise OutcomeUnknown(f"{r.what}: not connected to ZooKeeper (ConnectionLoss); "
                                     "sent, so the slot may be claimed or not")
            made = self.cluster.create(path, codec.encode(codec.claim_doc(claim)))
            if made is None and self._answers_lost is None:
                existing = self._read_claim(path)
                whose = f" by node {existing.node} (epoch {existing.epoch})" if existing else ""
                raise ClaimConflict(f"{r.what}: slot already claimed{whose}", existing)
        self.cluster.notify()
        if self._answers_lost is not None:
            raise OutcomeUnknown(f"{r.what}: not connected to ZooKeeper (ConnectionLoss); "
                                 "sent, so the slot may be claimed or not")
        return claim

    def _read_claim(self, path: str) -> Claim | None:
        z = self.cluster.get(path)
        return None if z is None else codec.claim_from(z.data, path)

    def get_claim(self, svc: str, job: str, slot: str, node: str | None = None
                  ) -> Claim | None:
        with self.cluster.lock:
            self._require("get_claim")
            return self._read_claim(layout.claim_path(svc, job, slot, node))

    def claims(self, svc: str, job: str, node: str | None = None) -> list[Claim]:
        with self.cluster.lock:
            self._require("claims")
            found = self.cluster.by_age(layout.claims_path(svc, job, node))
            return [c for p, z in found if (c := codec.claim_from(z.data, p)) is not None]

    def prune_claims(self, svc: str, job: str, keep: int = 100, node: str | None = None
                     ) -> int:
        with self.cluster.lock:
            self._require("prune_claims")
            gone = self._prune(layout.claims_path(svc, job, node), keep)
        self.cluster.notify()
        return gone

    def _prune(self, base: str, keep: int) -> int:
        aged = self.cluster.by_age(base)
        old = aged[: max(0, len(aged) - keep)]
        return sum(self.cluster.delete(p) for p, _ in old)
