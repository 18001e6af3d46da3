"""Self-fencing: when the ZooKeeper connection is suspended, stop acting, then stop what runs.

The cluster can drop our ephemeral lease only a session timeout after ZooKeeper last heard
from us, so the fencing clock starts at our last contact with ZooKeeper (``last_heard``, which
the server answers at once), not at the SUSPENDED notice: a silent network is noticed ~2/3
of the timeout late (measured ~1.1 s with a 2 s session), a server that closes the
connection (a ZooKeeper leader election) at once. We fence ``fence_delay`` after the last
contact: three quarters of the session timeout, so a leader election (measured 0.4-1.3 s)
does not bounce services, and our resources and tasks get the last quarter (0.5 s for a 2 s
session, more in practice since expiry is rounded up to ZooKeeper's tick) to stop before
another node can see the lease gone and start them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


def default_fence_delay(session_timeout: float) -> float:
    """Three quarters of the session timeout after the last contact (1.5 s for a 2 s session)."""
    return max(0.1, session_timeout * 0.75)


@dataclass
class FenceClock:
    """Tracks how long the session has been suspended; pure apart from the clock it is given."""

    delay: float
    suspended_since: float | None = None
    fenced: bool = False
    fences: int = 0  # since the agent started, its own and its keeper's (the metrics')

    def fenced_now(self) -> None:
        """This node fences now: nothing more until the connection is back."""
        self.fenced = True
        self.fences += 1

    def suspended(self, now: float | None = None) -> None:
        """Start the clock at ``now`` (the last contact with ZooKeeper; default: now)."""
        if self.suspended_since is None:
            self.suspended_since = time.monotonic() if now is None else now

    def connected(self) -> None:
        self.suspended_since = None
        self.fenced = False

    def due(self, now: float | None = None) -> bool:
        """True once the suspension has lasted ``delay`` and we have not fenced yet."""
        if self.suspended_since is None or self.fenced:
            return False
        now = time.monotonic() if now is None else now
        return now - self.suspended_since >= self.delay

    def seconds_left(self, now: float | None = None) -> float | None:
        if self.suspended_since is None or self.fenced:
            return None
        now = time.monotonic() if now is None else now
        return max(0.0, self.delay - (now - self.suspended_since))
