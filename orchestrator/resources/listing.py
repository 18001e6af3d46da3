"""One reading of what is asked over and over (all of an engine's containers, every
interface's addresses, whether a Docker engine answers), shared by the callers of the next
few seconds in this process: a status sweep of many services reads once, not once per
resource. The driver that changes what is listed (a start, a stop) drops it, so its own
next status sees the change at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Listing(Generic[T]):
    """Readings by key (an engine's path, ``""`` for one thing), each kept ``ttl`` seconds."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._seen: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, read: Callable[[], T]) -> T:
        """The reading of ``key``, read now when there is none or it is older than ttl.
        Callers of one sweep wait for the one reading; what ``read`` raises is raised (and
        nothing is kept)."""
        with self._lock:
            seen = self._seen.get(key)
            if seen is None or time.monotonic() - seen[0] > self.ttl:
                seen = self._seen[key] = (time.monotonic(), read())
            return seen[1]

    def forget(self) -> None:
        """Drop every reading: this process changed what is listed."""
        with self._lock:
            self._seen.clear()
