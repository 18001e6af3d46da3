"""Delivery of the daemon's queued pushes on a thread of its own.

Why: ``PushClient.push`` queues, then delivers at once, waiting up to the client timeout
when the collector hangs. Run records are saved from the scheduler's tick (missed slots)
and from every run; none of them may wait for the collector. They ``enqueue`` (a small
durable file write) and ``kick`` the courier, which delivers in order; it also retries every
``retry_every`` seconds, so what an outage left queued goes out even on a quiet node.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from orchestrator.log import get_logger

if TYPE_CHECKING:
    from orchestrator.push.client import PushClient

log = get_logger()


class Courier:
    def __init__(self, client: PushClient, stop_event: threading.Event,
                 retry_every: float = 30.0):
        self.client = client
        self.stop_event = stop_event
        self.retry_every = retry_every
        self.kicked = threading.Event()
        self.thread: threading.Thread | None = None
        self.failing = False  # log an outage once, and its end once

    def send(self, kind: str, items: Iterable[Any]) -> None:
        """Queue a push durably and have it delivered soon; never waits for the collector."""
        self.client.enqueue(kind, items)
        self.kicked.set()

    def start(self) -> None:
        self.thread = threading.Thread(target=self.loop, name="courier", daemon=True)
        self.thread.start()

    def loop(self) -> None:
        while not self.stop_event.is_set():
            self.kicked.wait(self.retry_every)
            self.kicked.clear()
            try:
                if self.client.pending():
                    self.report(self.client.flush())
            except Exception as exc:  # noqa: BLE001 - delivery must survive anything
                log.exception(f"collector: delivery failed: {exc!r}")

    def report(self, result: Any) -> None:
        if result.error and result.pending and not self.failing:
            log.warning(f"collector: {result.pending} push(es) kept queued, retried every "
                        f"{self.retry_every:g}s and at each new push: {result.error}")
        elif self.failing and result.ok:
            log.info(f"collector: reachable again; queued pushes delivered "
                     f"({result.delivered} new, {result.duplicates} already received)")
        self.failing = bool(result.error and result.pending)
