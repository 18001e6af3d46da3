"""The collector's store, as the HTTP layer sees it: one abstract class, one module per backend.

``sqlite_store.SQLiteStore`` is the only backend today. A PostgreSQL backend would implement
the same abstract methods in its own module (its SQL is the same portable subset: upserts are
``INSERT ... ON CONFLICT (...) DO UPDATE ... WHERE``, which both engines speak); nothing here or
in the HTTP layer knows which engine is behind. Every method returns plain JSON-ready dicts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from typing import Any

from orchestrator.collector.model import Push, service_view


class StoreError(Exception):
    """The store cannot be opened or written (bad path, disk full, corrupt file)."""


class CollectorStore(ABC):
    """Pushed facts per cluster. Writes are whole pushes; reads filter by cluster."""

    @abstractmethod
    def ingest(self, push: Push) -> bool:
        """Store a push atomically; False (and nothing written) if its key was seen before."""

    @abstractmethod
    def clusters(self) -> list[str]:
        """Every cluster that pushed something, sorted."""

    @abstractmethod
    def nodes(self, cluster: str | None = None) -> list[dict[str, Any]]:
        """Node asset facts, one row per node."""

    @abstractmethod
    def instances(self, cluster: str | None = None,
                  service: str | None = None) -> list[dict[str, Any]]:
        """Service instance status, one row per (service, node)."""

    @abstractmethod
    def runs(self, cluster: str | None = None, service: str | None = None,
             limit: int = 100) -> list[dict[str, Any]]:
        """Run records, newest first (run ids sort by start time)."""

    @abstractmethod
    def run_output(self, cluster: str, run_id: str) -> dict[str, Any] | None:
        """A run's output as its node pushed it (the tail): ``{output, truncated, ...}``."""

    @abstractmethod
    def seen_nodes(self, cluster: str) -> list[dict[str, Any]]:
        """Every node that pushed anything, or ran a run pushed: ``{node, last_seen}``."""

    @abstractmethod
    def compliance(self, cluster: str | None = None, node: str | None = None,
                   service: str | None = None) -> list[dict[str, Any]]:
        """Latest compliance result per (node, service, module)."""

    @abstractmethod
    def configs(self, cluster: str | None = None,
                service: str | None = None) -> list[dict[str, Any]]:
        """Latest service config text per (service, node)."""

    @abstractmethod
    def resinfo(self, cluster: str | None = None,
                service: str | None = None) -> list[dict[str, Any]]:
        """Resource info key/values per (service, node, rid, key)."""

    @abstractmethod
    def pushes(self, cluster: str | None = None, node: str | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
        """The push ledger, newest last: which push keys were received, in what order."""

    @abstractmethod
    def prune(self, before: str) -> dict[str, int]:
        """Delete history received before ``before`` (ISO 8601 UTC, as ``received_at``): run
        records and push-ledger rows. Latest-state rows (nodes, instances, configs, resinfo,
        compliance) are kept. Returns the rows deleted per table."""

    @abstractmethod
    def add_token(self, cluster: str, token_id: str, digest: str, created_at: str) -> None:
        """Keep a push token of ``cluster``, by its digest only (auth.py makes both)."""

    @abstractmethod
    def tokens(self, cluster: str | None = None) -> list[dict[str, Any]]:
        """Stored tokens: ``{cluster, token_id, digest, created_at}``, never the token."""

    @abstractmethod
    def revoke_tokens(self, cluster: str, token_id: str | None = None) -> int:
        """Delete the cluster's tokens (one, given its id); how many went."""

    @abstractmethod
    def sizes(self) -> dict[str, int]:
        """Rows per table (the collector's /metrics)."""

    @abstractmethod
    def close(self) -> None:
        """Release the backend's connections."""

    def services(self, cluster: str | None = None) -> list[dict[str, Any]]:
        """Each service with its active node and availability, derived from its instances."""
        grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in self.instances(cluster):
            grouped[(row["cluster"], row["service"])].append(row)
        return [service_view(svc, clu, rows) for (clu, svc), rows in sorted(grouped.items())]
