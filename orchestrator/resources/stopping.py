"""How resources stop: gracefully (a stop, a switch: each driver's own timeouts) or hard.

The fence keeper stops hard. It fences an agent that died or hung, or a node that lost
ZooKeeper, and another node takes the service as soon as this node's session expires: a
container given ``stop_timeout`` to exit, or an app given its SIGTERM grace, would still
hold the address or the filesystem when the next node starts, and that start is refused
(the address answers elsewhere, the device is mounted). So while stopping hard, drivers
skip their grace periods: containers are killed (``stop -t 0``), simple apps get SIGKILL.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_HARD: contextvars.ContextVar[bool] = contextvars.ContextVar("hard_stop", default=False)


@contextlib.contextmanager
def hard() -> Iterator[None]:
    """Stop hard within this block (this thread)."""
    token = _HARD.set(True)
    try:
        yield
    finally:
        _HARD.reset(token)


def is_hard() -> bool:
    return _HARD.get()


def grace(seconds: float) -> float:
    """A driver's grace period before it kills: none while stopping hard."""
    return 0.0 if _HARD.get() else seconds
