"""The in-memory cluster's server side: znodes by path with their version, creation order
(ZooKeeper's czxid) and ephemeral owner, and the watches on them (``memory.MemoryStore`` is a
session on it)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from orchestrator.coordination import layout
from orchestrator.coordination.errors import CoordinationError

if TYPE_CHECKING:
    from orchestrator.coordination.interface import Wake


@dataclass
class _Znode:
    data: bytes
    czxid: int
    version: int = 0
    owner: int | None = None  # the session of an ephemeral znode


class Watcher(Protocol):
    """The store a watch belongs to (memory.MemoryStore): told only while connected."""

    @property
    def connected(self) -> bool: ...

    def wake_up(self, wake: Wake, value: Any) -> None: ...


@dataclass
class _Watch:
    store: Watcher
    path: str
    children: bool  # a children watch (else a data watch)
    wake: Wake
    convert: Callable[[bytes | None], Any]


class MemoryCluster:
    """The shared state of one cluster (what ZooKeeper holds), thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.znodes: dict[str, _Znode] = {}
        self.watches: list[_Watch] = []
        self._zxid = itertools.count(1)
        self._sessions = itertools.count(0x1000)
        self._sequences: dict[str, int] = {}
        self._changed: list[str] = []  # paths changed under the lock, notified after

    def new_session(self) -> int:
        return next(self._sessions)

    # ------------------------------------------------------------------ znodes (under lock)

    def get(self, path: str) -> _Znode | None:
        return self.znodes.get(path)

    def create(self, path: str, data: bytes, owner: int | None = None,
               sequence: bool = False) -> str | None:
        """The path created, or None if it exists."""
        if sequence:
            n = self._sequences.get(path, 0)
            self._sequences[path] = n + 1
            path = f"{path}{n:010d}"
        if path in self.znodes:
            return None
        self.znodes[path] = _Znode(data, next(self._zxid), owner=owner)
        self._changed.append(path)
        return path

    def set(self, path: str, data: bytes, version: int = -1) -> bool:
        node = self.znodes.get(path)
        if node is None or version not in (-1, node.version):
            return False
        node.data, node.version = data, node.version + 1
        self._changed.append(path)
        return True

    def delete(self, path: str, version: int = -1) -> bool:
        node = self.znodes.get(path)
        if node is None or version not in (-1, node.version):
            return False
        del self.znodes[path]
        self._changed.append(path)
        return True

    def delete_tree(self, path: str) -> None:
        prefix = path + "/"
        for p in [p for p in self.znodes if p == path or p.startswith(prefix)]:
            self.delete(p)

    def children(self, base: str) -> list[str]:
        """Names directly under ``base`` (a parent exists as long as something is under it)."""
        prefix = base + "/"
        return sorted({p[len(prefix):].split("/", 1)[0] for p in self.znodes
                       if p.startswith(prefix)})

    def by_age(self, base: str) -> list[tuple[str, _Znode]]:
        """The children of ``base`` that are znodes, oldest first (commit order)."""
        found = [(layout.child(base, n), self.znodes.get(layout.child(base, n)))
                 for n in self.children(base)]
        return sorted(((p, z) for p, z in found if z is not None), key=lambda pz: pz[1].czxid)

    def drop_session(self, session: int) -> None:
        for path in [p for p, z in self.znodes.items() if z.owner == session]:
            self.delete(path)

    # ------------------------------------------------------------------ watches

    def notify(self) -> None:
        """Fire the watches of what changed (call outside the lock)."""
        with self.lock:
            changed, self._changed = self._changed, []
            if not changed:
                return
            touched = set(changed)
            parents = {layout.parent_of(p) for p in changed}
            fire = [(w, self._value(w)) for w in self.watches if w.store.connected
                    and (w.path in parents if w.children else w.path in touched)]
        for w, value in fire:
            w.store.wake_up(w.wake, value)

    def _value(self, w: _Watch) -> Any:
        if w.children:
            return self.children(w.path)
        node = self.znodes.get(w.path)
        try:
            return w.convert(node.data if node is not None else None)
        except CoordinationError:
            return None
