"""The decision loop's pulse, for the fence keeper and systemd's watchdog.

The loop calls ``beat()`` every pass (several times a second) and wraps an action known to
take long (a resource start or stop, bounded by its timeouts) in ``busy(seconds)``. A
renewer thread sends the keeper two deadlines a few times a second:

* ``fence_at``: the last ZooKeeper answer + the fence delay (ZooKeeper went quiet);
* ``loop_fence_at``: the loop's last beat (or the end of its busy window) + the fence delay
  (the loop went quiet: stuck, though kazoo's own thread still keeps the session alive).

The renewer runs beside the loop, so a loop blocked in a ZooKeeper call during a partition
still shows its ZooKeeper clock frozen, not a stuck loop: the keeper kills an agent only
when the loop went quiet while ZooKeeper kept answering. A SIGSTOP or a dead process stops
the renewals themselves. systemd's ``WATCHDOG=1`` is sent only while the loop is alive.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

RENEW_EVERY = 0.2  # seconds between renewals
PAUSED_AFTER = 1.0  # no renewal for this long: the whole process was stopped


class Heartbeat:
    def __init__(self, link: Any, fence_at: Callable[[], float | None], delay: float,
                 stop_event: threading.Event, notify: Callable[[str], Any] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.link = link
        self.fence_at = fence_at
        self.delay = delay
        self.stop_event = stop_event
        self.notify = notify
        self.clock = clock
        self.beat_at = clock()
        self.busy_until: float | None = None
        self.renewed_at: float | None = None
        self.thread: threading.Thread | None = None

    def beat(self) -> None:
        self.beat_at = self.clock()

    @contextlib.contextmanager
    def busy(self, seconds: float) -> Iterator[None]:
        """The loop is in an action that may take up to ``seconds``: it still counts as
        alive until then (a stop or start command bounded by its timeout)."""
        self.busy_until = self.clock() + seconds
        try:
            yield
        finally:
            self.busy_until = None
            self.beat()

    def loop_fence_at(self) -> float:
        """When the loop must be fenced unless it beats again."""
        until = self.beat_at + self.delay
        busy = self.busy_until
        return max(until, busy) if busy is not None else until

    def alive(self, now: float | None = None) -> bool:
        now = self.clock() if now is None else now
        return now < self.loop_fence_at()

    def renew_once(self) -> bool:
        """One renewal (and a systemd ping while the loop is alive); False if undelivered.

        A renewal long after the previous one means the whole process was stopped (SIGSTOP,
        a VM pause), not its loop stuck: the loop gets a fresh deadline to show it lives,
        else the keeper would take the continued agent's old beat for a stuck loop."""
        now = self.clock()
        if self.renewed_at is not None and now - self.renewed_at > PAUSED_AFTER:
            self.beat_at = max(self.beat_at, now)
        self.renewed_at = now
        if self.notify is not None and self.alive():
            self.notify("WATCHDOG=1")
        if self.link is None:
            return True
        return bool(self.link.renew(self.fence_at(), self.loop_fence_at()))

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop_event.is_set():
            with contextlib.suppress(Exception):  # the pulse must outlive any one failure
                self.renew_once()
            self.stop_event.wait(RENEW_EVERY)
