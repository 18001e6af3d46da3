"""Per-service documents the node agents share: the users' target and each instance's status.

``/services/<svc>/target`` (persistent JSON): what users asked (started/stopped, a requested
node, frozen, nodes whose start failed). Updated with version checks, so concurrent
requests and failure reports never overwrite each other.
``/services/<svc>/instances/<node>`` (ephemeral JSON): the instance status a node publishes;
it vanishes with the node's session, so a dead node shows no stale instance.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from kazoo import exceptions as kx

from orchestrator.coordination import codec, layout
from orchestrator.coordination.client import translated, tx_failure
from orchestrator.coordination.errors import CoordinationError
from orchestrator.coordination.states import RunSlot


class ServiceDocs:
    """Mixed into Coordinator: needs ``self._session``, ``self.node`` and ``self._watch_data``."""

    _session: Any
    node: str

    @translated
    def get_target(self, svc: str) -> dict[str, Any]:
        """The users' target for ``svc`` ({} when nobody asked anything yet)."""
        try:
            data, _ = self._session.client().get(layout.target_path(svc))
        except kx.NoNodeError:
            return {}
        return codec.decode(data, layout.target_path(svc)) or {}

    @translated
    def update_target(self, svc: str, change: Callable[[dict[str, Any]], dict[str, Any]]
                      ) -> dict[str, Any]:
        """Read-modify-write the target with a version check; retried on a race."""
        zk = self._session.client(f"update target of {svc}")
        path = layout.target_path(svc)
        for _ in range(20):
            try:
                data, stat = zk.get(path)
                current, version = codec.decode(data, path) or {}, stat.version
            except kx.NoNodeError:
                current, version = {}, None
            new = change(dict(current))
            try:
                if version is None:
                    zk.ensure_path(layout.service_path(svc))
                    zk.create(path, codec.encode(new))
                else:
                    zk.set(path, codec.encode(new), version=version)
                return new
            except (kx.BadVersionError, kx.NodeExistsError):
                continue
        raise CoordinationError(f"update target of {svc}: too much contention, gave up")

    @translated
    def current_epoch(self, svc: str) -> int:
        """The fencing epoch counter of ``svc`` (0 = it was never active)."""
        try:
            _, stat = self._session.client().get(layout.epoch_path(svc))
        except kx.NoNodeError:
            return 0
        return int(stat.version)

    @translated
    def publish_instance(self, svc: str, doc: dict[str, Any]) -> None:
        zk = self._session.client(f"publish instance of {svc}")
        path = layout.instance_path(svc, self.node)
        data = codec.encode(doc)
        try:
            zk.set(path, data)
            return
        except kx.NoNodeError:
            pass
        zk.ensure_path(layout.instances_path(svc))
        try:
            zk.create(path, data, ephemeral=True)
        except kx.NodeExistsError:
            zk.set(path, data)

    @translated
    def unpublish_instance(self, svc: str) -> None:
        with contextlib.suppress(kx.NoNodeError):
            self._session.client().delete(layout.instance_path(svc, self.node))

    @translated
    def instances(self, svc: str) -> dict[str, dict[str, Any]]:
        """Instance status documents of ``svc`` by node (only nodes whose session lives)."""
        zk = self._session.client()
        base = layout.instances_path(svc)
        try:
            names = zk.get_children(base)
        except kx.NoNodeError:
            return {}
        out = {}
        for name in sorted(names):
            try:
                data, _ = zk.get(layout.child(base, name))
            except kx.NoNodeError:
                continue
            out[name] = codec.decode(data, layout.child(base, name)) or {}
        return out

    def watch_target(self, svc: str, wake: Any) -> None:
        """Wake when the target changes (``fn(target)``, {} when there is none)."""
        path = layout.target_path(svc)
        self._watch_data(path, wake,  # type: ignore[attr-defined]
                         lambda d: codec.decode(d, path) or {})


class RunSlots:
    """Cluster-wide ``max_parallel``: a run holds one of N slot znodes while it runs.

    Creating ``slot-K`` is atomic, so two nodes can never both take the last slot. A daemon's
    slots are ephemeral: they vanish with its session, so a dead runner never blocks later
    runs. A session whose runs outlive it (``persist_run_slots``: ``svcmgr run``, whose
    command runs in its own session) takes persistent slots instead, each indexed under
    ``/run-slots/<node>`` in the same transaction, so the node's reaper finds the ones whose
    runner and command are both gone (``node_run_slots``, ``free_run_slot``).
    """

    _session: Any
    node: str
    _persistent_slots: bool = False

    def persist_run_slots(self) -> None:
        """Slots taken from now on outlive this session (freed by release or the reaper)."""
        self._persistent_slots = True

    @translated
    def take_run_slot(self, svc: str, rid: str, max_parallel: int, doc: dict[str, Any]
                      ) -> str | None:
        zk = self._session.client(f"take a run slot of {svc}/{rid}")
        base = layout.running_path(svc, rid)
        zk.ensure_path(base)
        if self._persistent_slots:
            zk.ensure_path(layout.node_slots_path(self.node))
        for k in range(max_parallel):
            path = layout.run_slot_path(svc, rid, k)
            if self._create_slot(zk, path, codec.encode(doc)):
                return path
        return None

    def _create_slot(self, zk: Any, path: str, data: bytes) -> bool:
        """True if this run took ``path``, False if another run holds it."""
        if not self._persistent_slots:
            try:
                zk.create(path, data, ephemeral=True)
                return True
            except kx.NodeExistsError:
                return False
        return self._create_persistent_slot(zk, path, data)

    def _create_persistent_slot(self, zk: Any, path: str, data: bytes) -> bool:
        """The slot and its index entry in one transaction: never a slot nobody can find."""
        entry = layout.slot_entry_path(self.node, path)
        for _ in range(3):
            tx = zk.transaction()
            tx.create(path, data)
            tx.create(entry, codec.encode({"slot": path}))
            failure = tx_failure(zk.commit(tx))
            if failure is None:
                return True
            index, exc = failure
            if index == 0 and isinstance(exc, kx.NodeExistsError):
                return False
            self._repair_slot_paths(zk, path, entry, exc)
        raise CoordinationError(f"take run slot {path}: its paths keep changing, gave up")

    def _repair_slot_paths(self, zk: Any, path: str, entry: str, exc: BaseException) -> None:
        """Undo what made a slot's transaction fail, or raise ``exc``."""
        if isinstance(exc, kx.NodeExistsError):  # an entry a release cut short left behind
            with contextlib.suppress(kx.NoNodeError):
                zk.delete(entry)
        elif isinstance(exc, kx.NoNodeError):  # a parent deleted since this session ensured it
            for parent in (layout.parent_of(path), layout.node_slots_path(self.node)):
                zk.forget_path(parent)
                zk.ensure_path(parent)
        else:
            raise exc

    @translated
    def release_run_slot(self, path: str) -> None:
        zk = self._session.client()
        with contextlib.suppress(kx.NoNodeError):
            zk.delete(path)
        if self._persistent_slots:  # the slot first: a left entry is harmless, a slot not
            with contextlib.suppress(kx.NoNodeError):
                zk.delete(layout.slot_entry_path(self.node, path))

    @translated
    def note_run_slot_command(self, path: str, pid: int, started: float | None) -> None:
        """The slot's run started a command: the slot names it (pid and create time), so the
        reaper keeps the slot while that command lives, even once its runner is gone."""
        zk = self._session.client(f"note the command of run slot {path}")
        for _ in range(5):
            try:
                data, stat = zk.get(path)
            except kx.NoNodeError:
                return  # the run ended meanwhile
            doc = codec.decode(data, path) or {}
            doc["extra"] = {**(doc.get("extra") or {}), "command_pid": pid,
                            "command_started": started}
            try:
                zk.set(path, codec.encode(doc), version=stat.version)
                return
            except kx.NoNodeError:
                return
            except kx.BadVersionError:
                continue
        raise CoordinationError(f"note the command of run slot {path}: too much contention")

    @translated
    def node_run_slots(self, node: str) -> list[RunSlot]:
        """The persistent slots indexed under ``node``, with the run each one holds."""
        zk = self._session.client()
        base = layout.node_slots_path(node)
        try:
            names = zk.get_children(base)
        except kx.NoNodeError:
            return []
        entries = zk.get_many([layout.child(base, n) for n in sorted(names)])
        slots = []
        for entry, (data, _) in entries.items():
            path = (codec.decode(data, entry) or {}).get("slot")
            if isinstance(path, str):
                slots.append(self._read_slot(zk, path))
        return slots

    def _read_slot(self, zk: Any, path: str) -> RunSlot:
        try:
            data, stat = zk.get(path)
        except kx.NoNodeError:
            return RunSlot(path, None)
        return RunSlot(path, codec.decode(data, path) or {}, stat.version)

    @translated
    def free_run_slot(self, slot: RunSlot, node: str) -> bool:
        """Delete a slot indexed under ``node`` (only if unchanged since read) and its entry;
        ``slot.version`` None: the entry only. False if the slot changed meanwhile."""
        zk = self._session.client(f"free run slot {slot.path}")
        entry = layout.slot_entry_path(node, slot.path)
        if slot.version is None:
            with contextlib.suppress(kx.NoNodeError):
                zk.delete(entry)
            return True
        tx = zk.transaction()
        tx.delete(slot.path, version=slot.version)
        tx.delete(entry)
        failure = tx_failure(zk.commit(tx))
        if failure is None:
            return True
        if isinstance(failure[1], kx.NoNodeError | kx.BadVersionError):
            return False
        raise failure[1]

    @translated
    def running_runs(self, svc: str, rid: str) -> list[dict[str, Any]]:
        zk = self._session.client()
        base = layout.running_path(svc, rid)
        try:
            names = zk.get_children(base)
        except kx.NoNodeError:
            return []
        out = []
        for name in sorted(names):
            with contextlib.suppress(kx.NoNodeError):
                data, _ = zk.get(layout.child(base, name))
                out.append(codec.decode(data, layout.child(base, name)) or {})
        return out
