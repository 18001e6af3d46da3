"""The collector's own Prometheus metrics (``GET /metrics``): what it was sent, what it kept.

* ``orchestrator_collector_pushes_total{kind,result}``: pushes by kind and outcome; result is
  one of ``RESULTS`` (``stored``, ``duplicate``: a redelivery, ``unauthorized``: 401/403,
  ``invalid``: 400/404/411/413, ``error``: the store failed, 503).
* ``orchestrator_collector_store_rows{table}``: rows per store table, read at each scrape.
* ``orchestrator_collector_store_bytes``: the database file's size (SQLite: file and WAL).

A registry of its own per collector, so two collectors in one process (tests) do not share
counts, and the process-wide default metrics (gc, process) are left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder

from orchestrator.collector.store import CollectorStore, StoreError

RESULTS = ("stored", "duplicate", "unauthorized", "invalid", "error")


class _StoreSizes:
    """A scrape-time reader of the store's sizes (a custom prometheus_client collector)."""

    def __init__(self, store: CollectorStore):
        self.store = store

    def collect(self) -> Iterator[Any]:
        rows = GaugeMetricFamily("orchestrator_collector_store_rows",
                                 "Rows in each table of the collector's store",
                                 labels=["table"])
        try:
            sizes = self.store.sizes()
        except StoreError:
            sizes = {}
        for table, count in sorted(sizes.items()):
            rows.add_metric([table], count)
        yield rows
        path = getattr(self.store, "path", None)
        if path:
            size = sum(os.path.getsize(p) for p in (path, f"{path}-wal")
                       if os.path.exists(p))
            yield GaugeMetricFamily("orchestrator_collector_store_bytes",
                                    "Size of the collector's database files", value=size)


class CollectorMetrics:
    def __init__(self, store: CollectorStore):
        self.registry = CollectorRegistry(auto_describe=True)
        self.pushes = Counter("orchestrator_collector_pushes", "Pushes received, by outcome",
                              ["kind", "result"], registry=self.registry)
        self.registry.register(_StoreSizes(store))

    @staticmethod
    def result_of(status: int) -> str:
        if status in (401, 403):
            return "unauthorized"
        return "error" if status >= 500 else "invalid"

    def push(self, kind: str, result: str) -> None:
        self.pushes.labels(kind=kind, result=result).inc()

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The text (or OpenMetrics, if asked for) exposition and its content type."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type
