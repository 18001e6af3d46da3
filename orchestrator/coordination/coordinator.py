"""The cluster as seen by one node: membership, service configs, leases, claims, job state.

One class, Patroni-style: public methods keep the bookkeeping (names, refusals, meaning of
failures) and small ``_`` methods do the ZooKeeper I/O. See docs/coordination.md for the
znode layout and the lease/epoch/claim protocol.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from kazoo import exceptions as kx
from kazoo.recipe.watchers import ChildrenWatch, DataWatch

from orchestrator.coordination import codec, layout
from orchestrator.coordination.claims import Claims
from orchestrator.coordination.client import (
    Session,
    kazoo_errors,
    translated,
    tx_failure,
)
from orchestrator.coordination.errors import (
    CoordinationError,
    FencedOut,
    LeaseHeld,
    NotLeaseHolder,
)
from orchestrator.coordination.interface import Wake
from orchestrator.coordination.service_docs import RunSlots, ServiceDocs
from orchestrator.coordination.states import (
    ConnectionState,
    Lease,
    ServiceSnapshot,
)


class Coordinator(Claims, ServiceDocs, RunSlots):
    """A node's handle on its cluster in ZooKeeper.

    Connects on construction (``NotConnected`` if ZooKeeper does not answer within
    ``connect_timeout``; ``AccessDenied`` if the secret does not match the cluster's).
    Thread-safe as far as kazoo is; listeners and watch callbacks run in one dispatcher
    thread, never in kazoo's.
    """

    def __init__(
        self,
        hosts: str,
        cluster: str,
        secret: str | None,
        session_timeout: float,
        node: str,
        *,
        connect_timeout: float = 10.0,
    ) -> None:
        self.node = layout.check_name("node", node)
        self.cluster = cluster
        self._facts: dict[str, Any] | None = None
        self._session = Session(hosts, cluster, secret, session_timeout, connect_timeout)
        self._session.add_listener(self._on_state)
        self._session.start()

    # ------------------------------------------------------------------ session

    @property
    def state(self) -> ConnectionState:
        return self._session.state

    @property
    def connected(self) -> bool:
        return self._session.state is ConnectionState.CONNECTED

    @property
    def last_heard(self) -> float:
        """``time.monotonic()`` when ZooKeeper last answered us (fencing counts from here)."""
        return self._session.last_heard

    @property
    def session_id(self) -> int | None:
        return self._session.session_id

    @property
    def chroot(self) -> str:
        return self._session.chroot

    def add_listener(self, fn: Callable[[ConnectionState], None]) -> None:
        """Call ``fn(state)`` on every connection state change (in the dispatcher thread)."""
        self._session.add_listener(fn)

    def remove_listener(self, fn: Callable[[ConnectionState], None]) -> None:
        self._session.remove_listener(fn)

    def close(self) -> None:
        """End the session: our ephemeral nodes (membership, leases) go at once."""
        self._session.close()

    def __enter__(self) -> Coordinator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _on_state(self, state: ConnectionState) -> None:
        # A new session after LOST has none of our ephemeral nodes: membership comes back
        # by itself; leases do not (the daemon must decide to re-acquire).
        if state is ConnectionState.CONNECTED and self._facts is not None:
            with contextlib.suppress(CoordinationError):
                self.register_node(self._facts)

    # ------------------------------------------------------------------ membership

    @translated
    def register_node(self, facts: dict[str, Any]) -> None:
        """Publish this node (ephemeral ``/nodes/<node>``) with JSON ``facts``; re-publish to update."""
        self._facts = dict(facts)
        zk = self._session.client()
        path = layout.node_path(self.node)
        data = codec.encode(self._facts)
        try:
            zk.create(path, data, ephemeral=True)
            return
        except kx.NodeExistsError:
            pass
        stat = zk.exists(path)
        if stat is not None and stat.ephemeralOwner == self.session_id:
            zk.set(path, data)
            return
        # A leftover of our previous session (it lives until that session expires), or an
        # impostor with our name: replace it so the cluster sees this session.
        with contextlib.suppress(kx.NoNodeError):
            zk.delete(path)
        zk.create(path, data, ephemeral=True)

    @translated
    def nodes(self) -> dict[str, dict[str, Any]]:
        """Every registered (live) node and its facts."""
        zk = self._session.client()
        names = zk.get_children(layout.NODES)
        found = zk.get_many([layout.child(layout.NODES, n) for n in names])
        return {
            layout.name_of(path): codec.decode(data, path) or {}
            for path, (data, _) in sorted(found.items())
        }

    def watch_nodes(self, wake: Wake) -> None:
        """Wake on membership changes: ``wake`` is an Event to set or ``fn(names)`` to call."""
        self._watch_children(layout.NODES, wake)

    # ------------------------------------------------------------------ service configs

    @translated
    def put_service_config(self, svc: str, text: str) -> None:
        zk = self._session.client()
        path = layout.config_path(svc)
        data = text.encode()
        try:
            zk.create(path, data)
        except kx.NodeExistsError:
            zk.set(path, data)

    @translated
    def get_service_config(self, svc: str) -> str | None:
        try:
            data, _ = self._session.client().get(layout.config_path(svc))
        except kx.NoNodeError:
            return None
        return data.decode()

    @translated
    def delete_service_config(self, svc: str, purge: bool = True) -> None:
        """Remove the service's config; ``purge`` also removes its runtime tree (state, runs)."""
        zk = self._session.client()
        with contextlib.suppress(kx.NoNodeError):
            zk.delete(layout.config_path(svc))
        if purge:
            with contextlib.suppress(kx.NoNodeError):
                zk.delete_tree(layout.service_path(svc))

    @translated
    def service_names(self) -> list[str]:
        return sorted(self._session.client().get_children(layout.CONFIGS))

    def watch_services(self, wake: Wake) -> None:
        """Wake when a service config is added or removed (``fn(names)`` or Event)."""
        self._watch_children(layout.CONFIGS, wake)

    def watch_service_config(self, svc: str, wake: Wake) -> None:
        """Wake when ``svc``'s config changes (``fn(text_or_None)`` or Event)."""
        self._watch_data(layout.config_path(svc), wake, lambda d: None if d is None else d.decode())

    # ------------------------------------------------------------------ snapshot

    @translated
    def service_snapshot(self, svc: str) -> ServiceSnapshot:
        """``svc``'s config, lease, target and epoch, read in one round trip (the four reads
        are sent together, then awaited)."""
        zk = self._session.client(f"read service {svc}")
        cpath, lpath, tpath = layout.config_path(svc), layout.lease_path(svc), layout.target_path(svc)
        found = zk.get_many([cpath, lpath, tpath, layout.epoch_path(svc)])
        config = found.get(cpath)
        lease = found.get(lpath)
        target = found.get(tpath)
        epoch = found.get(layout.epoch_path(svc))
        return ServiceSnapshot(
            svc=svc,
            config=config[0].decode() if config is not None else None,
            lease=codec.lease_from(svc, lease[0], lpath) if lease is not None else None,
            target=(codec.decode(target[0], tpath) or {}) if target is not None else {},
            epoch=int(epoch[1].version) if epoch is not None else 0,
        )

    # ------------------------------------------------------------------ lease

    @translated
    def acquire_lease(self, svc: str) -> Lease:
        """Become the active instance of ``svc`` under a new, higher fencing epoch.

        One transaction bumps the persistent epoch counter (version-checked) and creates
        the ephemeral lease: either both happen or neither. Returns the current lease if this
        session already holds it. Raises ``LeaseHeld`` if another session holds it; ``NotConnected`` unless CONNECTED.
        """
        zk = self._session.require_connected(f"acquire lease of {svc}")
        lpath, epath = layout.lease_path(svc), layout.epoch_path(svc)
        self._ensure_epoch(svc)
        for _ in range(20):
            holder, owner = self._read_lease(svc)
            if holder is not None and owner == self.session_id:
                return holder  # already ours: acquiring is idempotent within a session
            if holder is not None:
                raise LeaseHeld(
                    f"lease of {svc} held by node {holder.node} (epoch {holder.epoch})"
                    + (" in another session of this node" if holder.node == self.node else ""),
                    holder,
                )
            _, stat = zk.get(epath)
            epoch = stat.version + 1
            lease = Lease(svc, self.node, epoch, time.time())
            doc = {"node": self.node, "epoch": epoch, "acquired_at": lease.acquired_at}
            tx = zk.transaction()
            tx.set_data(epath, codec.encode(doc), version=stat.version)
            tx.create(lpath, codec.encode(doc), ephemeral=True)
            failure = tx_failure(zk.commit(tx))
            if failure is None:
                return lease
            # Lost a race: the epoch moved or somebody created the lease first. Look again.
        raise CoordinationError(f"acquire lease of {svc}: too much contention, gave up")

    @translated
    def release_lease(self, svc: str) -> bool:
        """Give the lease up if this session holds it; True if something was released."""
        zk = self._session.client()
        try:
            _, stat = zk.get(layout.lease_path(svc))
        except kx.NoNodeError:
            return False
        if stat.ephemeralOwner != self.session_id:
            return False
        try:
            zk.delete(layout.lease_path(svc), version=stat.version)
        except (kx.NoNodeError, kx.BadVersionError):
            return False
        return True

    @translated
    def lease_holder(self, svc: str) -> Lease | None:
        return self._read_lease(svc)[0]

    @translated
    def holds_lease(self, lease: Lease) -> bool:
        """Whether ``lease`` is still this session's and current (a read, not a guarantee)."""
        if not self.connected:
            return False
        holder, owner = self._read_lease(lease.svc)
        return holder is not None and holder.epoch == lease.epoch and owner == self.session_id

    def watch_lease(self, svc: str, wake: Wake) -> None:
        """Wake when the lease of ``svc`` changes hands (``fn(Lease_or_None)`` or Event)."""
        path = layout.lease_path(svc)
        self._watch_data(path, wake, lambda d: codec.lease_from(svc, d, path))

    def _read_lease(self, svc: str) -> tuple[Lease | None, int | None]:
        path = layout.lease_path(svc)
        try:
            data, stat = self._session.client().get(path)
        except kx.NoNodeError:
            return None, None
        return codec.lease_from(svc, data, path), stat.ephemeralOwner

    def _ensure_epoch(self, svc: str) -> None:
        zk = self._session.client()
        path = layout.epoch_path(svc)
        if zk.exists(path) is None:
            zk.ensure_path(layout.parent_of(path))
            with contextlib.suppress(kx.NodeExistsError):
                zk.create(path, codec.encode({"node": None, "epoch": 0}))

    def _add_lease_checks(self, tx: Any, lease: Lease) -> int:
        """Add the fencing checks to ``tx``; returns how many ops were added (first ones)."""
        # The epoch znode's version is the epoch: any later acquire bumps it. The lease znode
        # must still exist: if our session expired it is gone even when nobody re-acquired.
        tx.check(layout.epoch_path(lease.svc), lease.epoch)
        tx.check(layout.lease_path(lease.svc), -1)
        return 2

    def _fencing_error(self, lease: Lease, index: int, exc: BaseException, what: str) -> Exception:
        if index == 0:
            current = None
            with contextlib.suppress(kx.KazooException, CoordinationError):
                current = self._session.client().exists(layout.epoch_path(lease.svc))
            epoch = current.version if current is not None else None
            return FencedOut(
                f"{what}: fenced out, lease epoch {lease.epoch} of {lease.svc} is stale"
                + (f" (current epoch {epoch})" if epoch is not None else ""),
                epoch,
            )
        return NotLeaseHolder(f"{what}: node {self.node} no longer holds the lease of {lease.svc}")

    def _check_lease_arg(self, lease: Lease | None, svc: str, what: str) -> None:
        if lease is None:
            return
        if layout.lease_owner(lease.svc)[0] != svc:  # its own, or a flex instance slot's
            raise NotLeaseHolder(f"{what}: lease is for service {lease.svc}, not {svc}")
        if lease.node != self.node:
            raise NotLeaseHolder(f"{what}: lease belongs to node {lease.node}, not {self.node}")

    # ------------------------------------------------------------------ run records

    @translated
    def append_run_record(
        self, svc: str, job: str, record: dict[str, Any], keep: int = 100
    ) -> None:
        """Append to the job's bounded run history; the oldest beyond ``keep`` are pruned."""
        zk = self._session.client()
        base = layout.runs_path(svc, job)
        zk.ensure_path(base)
        zk.create(layout.run_record_prefix(svc, job), codec.encode(record), sequence=True)
        self._prune(base, keep)

    @translated
    def run_records(self, svc: str, job: str | None = None) -> list[dict[str, Any]]:
        """Run records of one job, or of every job of ``svc``, oldest first (commit order)."""
        zk = self._session.client()
        if job is not None:
            jobs = [job]
        else:
            try:
                jobs = zk.get_children(layout.jobs_path(svc))
            except kx.NoNodeError:
                return []
        found: list[tuple[int, dict[str, Any]]] = []
        for j in jobs:
            found += self._children_by_age(layout.runs_path(svc, j), codec.decode)
        found.sort(key=lambda item: item[0])
        return [rec for _, rec in found if isinstance(rec, dict)]

    def _children_by_age(
        self, base: str, parse: Callable[[bytes, str], Any]
    ) -> list[tuple[int, Any]]:
        """(czxid, parsed data) of every child, oldest first: czxid is ZooKeeper's commit order."""
        zk = self._session.client()
        try:
            names = zk.get_children(base)
        except kx.NoNodeError:
            return []
        found = zk.get_many([layout.child(base, n) for n in names])
        out = [(stat.czxid, parse(data, path)) for path, (data, stat) in found.items()]
        out.sort(key=lambda item: item[0])
        return out

    def _prune(self, base: str, keep: int) -> int:
        zk = self._session.client()
        try:
            names = zk.get_children(base)
        except kx.NoNodeError:
            return 0
        if len(names) <= keep:
            return 0
        stats = zk.exists_many([layout.child(base, n) for n in names])
        aged = sorted((stat.czxid, path) for path, stat in stats.items())
        return zk.delete_many([path for _, path in aged[: max(0, len(aged) - keep)]])

    # ------------------------------------------------------------------ watches

    def _wake(self, wake: Wake, *args: Any) -> None:
        if isinstance(wake, threading.Event):
            wake.set()
        else:
            self._session.dispatch(lambda: wake(*args))

    def _watch_children(self, path: str, wake: Wake) -> None:
        def on_change(children: list[str]) -> None:
            self._wake(wake, sorted(children))

        with kazoo_errors(f"watch {path}"):
            ChildrenWatch(self._session.raw(), path, on_change)

    def _watch_data(self, path: str, wake: Wake, convert: Callable[[bytes | None], Any]) -> None:
        def on_change(data: bytes | None, _stat: Any) -> None:
            try:
                value = convert(data)
            except CoordinationError:
                value = None
            self._wake(wake, value)

        with kazoo_errors(f"watch {path}"):
            DataWatch(self._session.raw(), path, on_change)
