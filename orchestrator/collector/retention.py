"""History retention: the collector deletes run records and push-ledger rows older than
``--retention DAYS`` (by when they were received), at start and then every ``PRUNE_EVERY``.

Only history is pruned. The latest-state rows (node assets, instance status, configs,
resource info, compliance results: one row per key, replaced by each push) stay whatever
their age, so a quiet node or service does not vanish from the page. The ledger is also the
duplicate detector: a push redelivered after its ledger row was pruned would be stored again,
which cannot happen in practice (a client redelivers at its next flush, seconds later).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from orchestrator.collector.store import CollectorStore, StoreError
from orchestrator.log import get_logger

DEFAULT_DAYS = 30.0
PRUNE_EVERY = 3600.0
log = get_logger("collector")


def cutoff(now: datetime, days: float) -> str:
    """The ``received_at`` text before which rows go (same format as the server writes)."""
    return (now.astimezone(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")


class Pruner:
    """Prunes ``store`` now and then every ``every`` seconds; ``days`` 0 = keep everything."""

    def __init__(self, store: CollectorStore, days: float, every: float = PRUNE_EVERY):
        self.store = store
        self.days = days
        self.every = every
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def prune(self, now: datetime | None = None) -> dict[str, int]:
        if not self.days:
            return {}
        before = cutoff(now or datetime.now(UTC), self.days)
        try:
            deleted = self.store.prune(before)
        except StoreError as exc:
            log.error("retention: prune failed", error=str(exc))
            return {}
        if any(deleted.values()):
            log.info(f"retention: deleted {deleted.get('runs', 0)} run records and "
                     f"{deleted.get('pushes', 0)} ledger rows received before {before}",
                     **deleted)
        return deleted

    def start(self) -> None:
        if not self.days:
            return
        self.thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stopped.wait(self.every):
            self.prune()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(5)
