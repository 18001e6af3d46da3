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

from orchestrator.coordination import store
from orchestrator.coordination.client import translated
from orchestrator.coordination.errors import CoordinationError


def target_path(svc: str) -> str:
    return f"{store.service_path(svc)}/target"


def instances_path(svc: str) -> str:
    return f"{store.service_path(svc)}/instances"


def instance_path(svc: str, node: str) -> str:
    return f"{instances_path(svc)}/{store.check_name('node', node)}"


class ServiceDocs:
    """Mixed into Coordinator: needs ``self._session``, ``self.node`` and ``self._watch_data``."""

    _session: Any
    node: str

    @translated
    def get_target(self, svc: str) -> dict[str, Any]:
        """The users' target for ``svc`` ({} when nobody asked anything yet)."""
        try:
            data, _ = self._session.client().get(target_path(svc))
        except kx.NoNodeError:
            return {}
        return store.decode(data, target_path(svc)) or {}

    @translated
    def update_target(self, svc: str, change: Callable[[dict[str, Any]], dict[str, Any]]
                      ) -> dict[str, Any]:
        """Read-modify-write the target with a version check; retried on a race."""
        zk = self._session.client(f"update target of {svc}")
        path = target_path(svc)
        for _ in range(20):
            try:
                data, stat = zk.get(path)
                current, version = store.decode(data, path) or {}, stat.version
            except kx.NoNodeError:
                current, version = {}, None
            new = change(dict(current))
            try:
                if version is None:
                    zk.ensure_path(store.service_path(svc))
                    zk.create(path, store.encode(new))
                else:
                    zk.set(path, store.encode(new), version=version)
                return new
            except (kx.BadVersionError, kx.NodeExistsError):
                continue
        raise CoordinationError(f"update target of {svc}: too much contention, gave up")

    @translated
    def current_epoch(self, svc: str) -> int:
        """The fencing epoch counter of ``svc`` (0 = it was never active)."""
        try:
            _, stat = self._session.client().get(store.epoch_path(svc))
        except kx.NoNodeError:
            return 0
        return int(stat.version)

    @translated
    def publish_instance(self, svc: str, doc: dict[str, Any]) -> None:
        zk = self._session.client(f"publish instance of {svc}")
        path = instance_path(svc, self.node)
        data = store.encode(doc)
        try:
            zk.set(path, data)
            return
        except kx.NoNodeError:
            pass
        zk.ensure_path(instances_path(svc))
        try:
            zk.create(path, data, ephemeral=True)
        except kx.NodeExistsError:
            zk.set(path, data)

    @translated
    def unpublish_instance(self, svc: str) -> None:
        with contextlib.suppress(kx.NoNodeError):
            self._session.client().delete(instance_path(svc, self.node))

    @translated
    def instances(self, svc: str) -> dict[str, dict[str, Any]]:
        """Instance status documents of ``svc`` by node (only nodes whose session lives)."""
        zk = self._session.client()
        base = instances_path(svc)
        try:
            names = zk.get_children(base)
        except kx.NoNodeError:
            return {}
        out = {}
        for name in sorted(names):
            try:
                data, _ = zk.get(f"{base}/{name}")
            except kx.NoNodeError:
                continue
            out[name] = store.decode(data, f"{base}/{name}") or {}
        return out

    def watch_target(self, svc: str, wake: Any) -> None:
        self._watch_data(target_path(svc), wake, lambda d: d)  # type: ignore[attr-defined]


def running_path(svc: str, rid: str) -> str:
    return f"{store.service_path(svc)}/running/{store.check_name('rid', rid)}"


class RunSlots:
    """Cluster-wide ``max_parallel``: a run holds one of N ephemeral slot znodes while it runs.

    Creating ``slot-K`` is atomic, so two nodes can never both take the last slot; the slot
    vanishes with the runner's session, so a dead runner never blocks later runs.
    """

    _session: Any

    @translated
    def take_run_slot(self, svc: str, rid: str, max_parallel: int, doc: dict[str, Any]
                      ) -> str | None:
        zk = self._session.client(f"take a run slot of {svc}/{rid}")
        base = running_path(svc, rid)
        zk.ensure_path(base)
        for k in range(max_parallel):
            try:
                return zk.create(f"{base}/slot-{k}", store.encode(doc), ephemeral=True)
            except kx.NodeExistsError:
                continue
        return None

    @translated
    def release_run_slot(self, path: str) -> None:
        with contextlib.suppress(kx.NoNodeError):
            self._session.client().delete(path)

    @translated
    def running_runs(self, svc: str, rid: str) -> list[dict[str, Any]]:
        zk = self._session.client()
        base = running_path(svc, rid)
        try:
            names = zk.get_children(base)
        except kx.NoNodeError:
            return []
        out = []
        for name in sorted(names):
            with contextlib.suppress(kx.NoNodeError):
                data, _ = zk.get(f"{base}/{name}")
                out.append(store.decode(data, f"{base}/{name}") or {})
        return out
