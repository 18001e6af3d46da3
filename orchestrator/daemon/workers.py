"""A pool of reusable threads for the scheduler's runs.

Why not a thread per run: ``Thread.start`` waits until the new thread has run, so the
scheduler paid one GIL hand-off per launch while the runs it had just launched were busy
forking; 17 launches in one second then spread over 100+ ms. Why not
``ThreadPoolExecutor``: runs can last hours, so a fixed cap would queue a due run behind
long ones. Here an idle thread takes the work at once; when none is idle a new one starts
(the only case that pays ``Thread.start``); threads idle for ``idle_timeout`` exit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from orchestrator.log import get_logger

log = get_logger()


class WorkerPool:
    def __init__(self, name: str = "worker", idle_timeout: float = 60.0):
        self.name = name
        self.idle_timeout = idle_timeout
        self._work: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]]] = (
            queue.SimpleQueue())
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for work, counting work handed to them not yet taken
        self._threads: set[threading.Thread] = set()
        self._count = 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` in a pool thread, now: never queued behind running work."""
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1  # reserve an idle thread for this item
        self._work.put((fn, args))
        if spawn:
            with self._lock:
                self._count += 1
                thread = threading.Thread(target=self._serve, name=f"{self.name}-{self._count}",
                                          daemon=True)
                self._threads.add(thread)
            thread.start()

    def busy(self) -> int:
        """Threads running work now."""
        with self._lock:
            return max(0, len(self._threads) - self._idle)

    def size(self) -> int:
        with self._lock:
            return len(self._threads)

    def _serve(self) -> None:
        me = threading.current_thread()
        while True:
            try:
                fn, args = self._work.get(timeout=self.idle_timeout)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0 and self._work.empty():
                        self._idle -= 1
                        self._threads.discard(me)
                        return
                continue  # an item was handed to us as we timed out: take it
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - one bad item must not kill the thread
                log.exception(f"{me.name}: unhandled error: {exc!r}")
            with self._lock:
                self._idle += 1
