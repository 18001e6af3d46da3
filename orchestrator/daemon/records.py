"""Where this node's run records and pushes go: each service's run store (the cluster's, or
the service's own files when standalone), pushed to the collector as saved, through one
courier thread so a hanging collector never holds up the scheduler."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.config.node import NodeConfig


class Records:
    def __init__(self, node: NodeConfig, clustered: bool, stop_event: threading.Event,
                 store: Callable[[], Any], runtimes: Mapping[str, Any]):
        self.node = node
        self.clustered = clustered
        self.stop_event = stop_event
        self.store = store  # the cluster store, once connected
        self.runtimes = runtimes
        self.stores: dict[str, Any] = {}
        self._collector: Any = None
        self._collector_read = False
        self._courier: Any = None
        self._courier_made = False

    def run_store(self, svc: str) -> Any:
        """Where the service's run records go; each final one is also pushed to the collector
        (when configured) as it is saved: task runs, skips, missed slots, built-in jobs."""
        rt = self.runtimes.get(svc)
        if rt is None or rt.service is None:
            return None
        if not self.clustered:
            return self._pushing(rt.service.runs)
        store = self.stores.get(svc)
        if store is None:
            from orchestrator.runs.cluster_store import ClusterRunStore

            store = self.stores[svc] = self._pushing(
                ClusterRunStore(self.store(), svc, rt.service.runs))
        return store

    def mark_pending(self, services: Any = None) -> None:
        """Records may wait in these services' queues (all when None): a reconnection, or the
        fence keeper queued some while this agent was stopped."""
        for name, store in list(self.stores.items()):
            if services is None or name in services:
                store.mark_pending()

    def forget(self, svc: str) -> None:
        self.stores.pop(svc, None)

    def flush(self) -> None:
        """Send run records kept while ZooKeeper was out of reach (a fence's too)."""
        for store in list(self.stores.values()):
            store.flush()

    def _pushing(self, store: Any) -> Any:
        courier = self.courier()
        if courier is None:
            return store
        from orchestrator.builtins.push import PushingRunStore

        return PushingRunStore(store, courier)

    def collector(self) -> Any:
        """The node's PushClient, or None when no [collector] url/token is configured."""
        if not self._collector_read:
            from orchestrator.push.client import PushClient

            self._collector, self._collector_read = PushClient.from_node_config(self.node), True
        return self._collector

    def courier(self) -> Any:
        """The thread delivering queued pushes (None without a collector)."""
        if not self._courier_made:
            self._courier_made = True
            client = self.collector()
            if client is not None:
                from orchestrator.push.courier import Courier

                self._courier = Courier(client, self.stop_event)
                self._courier.start()
        return self._courier
