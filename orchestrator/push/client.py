"""Node side: push to the collector through an on-disk queue, so an outage loses nothing.

Usage (the node's built-in jobs)::

    client = PushClient.from_node_config(node_config)   # None if [collector] url/token unset
    client.push("status", [{"service": "web", "avail": "up", "overall": "up"}])
    client.push("runs", [record])                        # RunRecord objects or dicts
    client.flush()                                       # deliver what an outage left queued

``push()`` first writes the push to ``queue_dir`` as one file named by a strictly
increasing sequence number (atomic: temp file, fsync, rename), then delivers the queue
oldest first. Delivery stops at the first failure (collector down, timeout, 5xx, token
refused) and leaves the rest for the next ``push()``/``flush()``, so order is kept. The
sequence number is the push's idempotency key at the collector: a push that was stored but
whose answer was lost is sent again and recognised as a duplicate. A push the collector
calls malformed (400, 413) would block the queue forever: it moves to ``queue_dir/rejected``.

Safe to share between threads and processes on a node: ``enqueue`` holds ``flock`` on
``queue_dir/.seq.lock`` (numbering and writing, no network; a new client's cleanup of
crashed writes holds it too), ``flush`` holds
``queue_dir/.lock`` while it delivers. A push is therefore queued at once even while another
process is delivering (or waiting on an unreachable collector), and ``flush(deadline=...)``
bounds how long a command-line caller (``svcmgr run``) waits for the delivery lock and
delivers; what it could not send stays queued for the next push or flush.

urllib only: no dependency.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.log import get_logger
from orchestrator.push_protocol import CLUSTER_HEADER, KINDS, PUSH_PATH

log = get_logger("push.client")
_REJECT_STATUSES = frozenset({400, 413})


@dataclass(frozen=True)
class FlushResult:
    """What one delivery attempt did; ``pending`` pushes stay queued for the next one."""

    delivered: int = 0
    duplicates: int = 0  # delivered before (answer lost): the collector ignored them
    rejected: int = 0  # malformed: moved to queue_dir/rejected
    pending: int = 0
    error: str | None = None  # why delivery stopped, None if the queue is empty

    @property
    def ok(self) -> bool:
        return self.pending == 0


class _Stop(Exception):
    """Delivery must stop here and keep this push and the ones after it."""


class PushClient:
    """Queue-then-deliver pushes for one cluster (see the module docstring)."""

    def __init__(self, url: str, token: str, cluster: str, queue_dir: str | Path, *,
                 node: str | None = None, timeout: float = 5.0):
        self.url = url.rstrip("/")
        self.token = token
        self.cluster = cluster
        self.queue_dir = Path(queue_dir)
        self.node = node or os.environ.get("ORCHESTRATOR_NODE") or socket.gethostname()
        self.timeout = timeout
        self.queue_dir.mkdir(parents=True, exist_ok=True)
        self._remove_crashed_writes()

    @classmethod
    def from_node_config(cls, config: Any, queue_dir: str | Path | None = None,
                         **kwargs: Any) -> PushClient | None:
        """A client from node.conf ``[collector] url, token`` and ``[cluster] name``.

        None when the node has no collector configured. The queue defaults to
        ``<root>/var/lib/orchestrator/collector-queue``.
        """
        url, token = config.get("collector", "url"), config.get("collector", "token")
        if not url or not token:
            return None
        return cls(url, token, config.get("cluster", "name") or "default",
                   queue_dir or config.paths.var / "collector-queue",
                   node=config.nodename, **kwargs)

    # ------------------------------------------------------------------ queue

    @contextlib.contextmanager
    def _locked(self, name: str = ".lock", deadline: float | None = None) -> Iterator[bool]:
        """Hold ``flock`` on ``queue_dir/name``; with a ``deadline`` (monotonic), yield False
        instead of waiting past it."""
        fd = os.open(self.queue_dir / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX if deadline is None
                                else fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is None or time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(0.02)
            yield True
        finally:
            os.close(fd)  # releases the lock

    def _remove_crashed_writes(self) -> None:
        """Delete ``.tmp-*`` files a crash left mid-write, holding the lock every write holds:
        without it, another process's write in flight would be deleted before its rename."""
        with self._locked(".seq.lock"):
            for stale in self.queue_dir.glob(".tmp-*"):
                stale.unlink(missing_ok=True)

    def _queued(self) -> list[Path]:
        return sorted(p for p in self.queue_dir.glob("*.json") if p.name[0].isdigit())

    def _next_seq(self) -> int:
        """Strictly increasing, and above any earlier one even if the queue dir was wiped.

        Microseconds since the epoch, bumped past the last one issued: the collector keeps
        the highest seq per row, so a node whose seq went backwards would be ignored.
        """
        seq_file = self.queue_dir / ".seq"
        try:
            last = int(seq_file.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            last = 0
        files = self._queued()
        if files:
            last = max(last, int(files[-1].name.split(".", 1)[0]))
        seq = max(last + 1, time.time_ns() // 1000)
        self._write_atomic(seq_file, str(seq).encode())
        return seq

    def _write_atomic(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.queue_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dfd = os.open(self.queue_dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def enqueue(self, kind: str, items: Iterable[Any]) -> int:
        """Write one push to the queue (durably) and return its sequence number."""
        if kind not in KINDS:
            raise ValueError(f"unknown push kind {kind!r}; kinds: {', '.join(KINDS)}")
        if kind == "runs":  # records travel with their output's tail
            from orchestrator.push.run_output import run_item

            items = [run_item(i) if hasattr(i, "to_dict") else i for i in items]
        else:
            items = [i.to_dict() if hasattr(i, "to_dict") else i for i in items]
        with self._locked(".seq.lock"):
            seq = self._next_seq()
            body = {"kind": kind, "node": self.node, "seq": seq, "items": items}
            data = json.dumps(body, default=str).encode()
            self._write_atomic(self.queue_dir / f"{seq:020d}.{kind}.json", data)
        return seq

    def pending(self) -> int:
        """How many pushes wait in the queue."""
        return len(self._queued())

    # ------------------------------------------------------------------ delivery

    def push(self, kind: str, items: Iterable[Any]) -> FlushResult:
        """Queue a push, then deliver the queue in order; never raises for a delivery failure."""
        self.enqueue(kind, items)
        return self.flush()

    def flush(self, *, deadline: float | None = None) -> FlushResult:
        """Deliver queued pushes oldest first; stop at the first failure, keeping the rest.

        ``deadline`` (a ``time.monotonic()`` value): wait for another deliverer no longer
        than that, start no delivery after it, and give each request only the time left
        (at most ``timeout``); what is left stays queued.
        """
        delivered = duplicates = rejected = 0
        error = None
        with self._locked(deadline=deadline) as held:
            if not held:
                return FlushResult(pending=self.pending(),
                                   error="another process is delivering the queue")
            for path in self._queued():
                timeout = self.timeout
                if deadline is not None:
                    timeout = min(timeout, deadline - time.monotonic())
                    if timeout <= 0.05:
                        error = "out of time: the rest stays queued for the next delivery"
                        break
                try:
                    duplicate = self._deliver(path, timeout)
                except _Stop as exc:
                    error = str(exc)
                    break
                if duplicate is None:
                    rejected += 1
                elif duplicate:
                    duplicates += 1
                else:
                    delivered += 1
            pending = len(self._queued())
        if error:
            log.warning("collector push delayed", error=error, pending=pending)
        return FlushResult(delivered, duplicates, rejected, pending, error)

    def _deliver(self, path: Path, timeout: float) -> bool | None:
        """POST one queued push: True duplicate, False stored, None rejected; _Stop to stop."""
        try:
            body = json.loads(path.read_bytes())
            kind = body["kind"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._reject(path, f"unreadable queue file: {exc}")
            return None
        data = json.dumps({k: body[k] for k in ("node", "seq", "items")}).encode()
        request = urllib.request.Request(
            f"{self.url}{PUSH_PATH}{kind}", data=data, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}",
                     CLUSTER_HEADER: self.cluster})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            if exc.code in _REJECT_STATUSES:
                self._reject(path, f"HTTP {exc.code}: {detail}")
                return None
            raise _Stop(f"{self.url}: HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Stop(f"{self.url}: {reason}") from None
        path.unlink(missing_ok=True)
        return bool(answer.get("duplicate"))

    def _reject(self, path: Path, why: str) -> None:
        rejected = self.queue_dir / "rejected"
        rejected.mkdir(exist_ok=True)
        os.replace(path, rejected / path.name)
        log.error("collector push rejected", file=str(rejected / path.name), reason=why)


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("error") or exc.reason)
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)
