"""Self-fencing: when the ZooKeeper connection is suspended, stop acting, then stop what runs.

kazoo reports SUSPENDED about two thirds of the session timeout after the last contact; the
cluster drops our ephemeral lease when the session expires (measured: ~1.1 s and ~2.4 s after
a cut with a 2 s session). We fence ``fence_delay`` after SUSPENDED: late enough that a short
blip (a ZooKeeper leader election) does not bounce services, early enough that our resources
and tasks are stopped before another node can see the lease gone and start them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


def default_fence_delay(session_timeout: float) -> float:
    """A quarter of the session timeout after SUSPENDED (0.5 s for a 2 s session)."""
    return max(0.1, session_timeout * 0.25)


@dataclass
class FenceClock:
    """Tracks how long the session has been suspended; pure apart from the clock it is given."""

    delay: float
    suspended_since: float | None = None
    fenced: bool = False

    def suspended(self, now: float | None = None) -> None:
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
