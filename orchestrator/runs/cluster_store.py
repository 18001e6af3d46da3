"""Run records shared by the cluster: ZooKeeper holds the history and the running slots,
so ``print runs`` tells the same story on every node and ``max_parallel`` holds cluster-wide.

Output logs stay on the node that ran the command (the record says which node). A record
that cannot reach ZooKeeper (connection suspended) waits in a local queue and is sent, in
order, when the connection is back: never lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.runs.record import RunRecord
from orchestrator.runs.store import FileRunStore

if TYPE_CHECKING:
    from orchestrator.coordination.interface import ClusterStore


class ClusterRunStore:
    def __init__(self, coord: ClusterStore, svc: str, local: FileRunStore):
        self.coord = coord
        self.svc = svc
        self.local = local
        self.slots: dict[str, str] = {}
        self.unreleased: set[str] = set()  # runs over whose slot release failed
        self.pending = local.base / "pending-records.jsonl"
        # the queue may hold records (at start; after we or the fence keeper queued some):
        # checked then, not at every flush (1,000 services' stats a second)
        self.maybe_pending = True
        self.lock = threading.Lock()

    def log_path(self, rid: str, run_id: str) -> Path:
        return self.local.log_path(rid, run_id)

    def begin(self, record: RunRecord, max_parallel: int | None = None) -> list[RunRecord]:
        if max_parallel is not None:
            # cluster-wide, except for tasks every node runs for itself (run_requires)
            key = (f"{record.rid}@{record.node}" if record.extra.get("scope") == "node"
                   else record.rid)
            slot = self.coord.take_run_slot(self.svc, key, max_parallel, record.to_dict())
            if slot is None:
                return [RunRecord.from_dict(d) for d in self.coord.running_runs(self.svc, key)]
            self.slots[record.run_id] = slot
        self.local.begin(record)
        return []

    def note_command(self, record: RunRecord, pid: int, started: float | None) -> None:
        self.local.note_command(record, pid, started)

    def recorded(self, rid: str, run_id: str) -> RunRecord | None:
        return self.local.recorded(rid, run_id)

    def save(self, record: RunRecord) -> bool:
        """Like the file store's: False when the run had a final record already."""
        from orchestrator.coordination import CoordinationError

        written = self.local.save(record)
        with self.lock:
            try:
                self._release(record.run_id)
                if not written:  # a final record was there first (the fence keeper's)
                    return False
                self._flush()
                self.coord.append_run_record(self.svc, record.rid, record.to_dict())
            except CoordinationError:
                if record.run_id in self.slots:  # the run is over: its slot goes back later
                    self.unreleased.add(record.run_id)
                if written:
                    queue_record(self.local.base, record)
                    self.maybe_pending = True
        return written

    def mark_pending(self) -> None:
        """Another process (the fence keeper) may have queued records: look at the next
        flush."""
        self.maybe_pending = True

    def finish_stale(self) -> list[RunRecord]:
        """Runs this node began and never ended (the node crashed between a run's begin and
        its end): finished as interrupted and sent to the cluster, so their claimed slot is
        explained, not lost."""
        stale = self.local.finish_stale()
        for record in stale:
            queue_record(self.local.base, record)
        if stale:
            self.maybe_pending = True
            self.flush()
        return stale

    def _release(self, run_id: str) -> None:
        """Give the run's max_parallel slot back; kept (and retried at the next flush) until
        ZooKeeper confirms it, so a failed release never leaks the slot."""
        slot = self.slots.get(run_id)
        if slot:
            self.coord.release_run_slot(slot)
            self.slots.pop(run_id, None)

    def _flush(self) -> None:
        """Send records queued while ZooKeeper was out of reach, oldest first; give back the
        slots whose release failed."""
        for run_id in list(self.unreleased):
            self._release(run_id)
            self.unreleased.discard(run_id)
        if not self.maybe_pending:
            return
        if not self.pending.exists():
            self.maybe_pending = False
            return
        with _pending_lock(self.local.base):
            if not self.pending.exists():
                self.maybe_pending = False
                return
            lines = [ln for ln in self.pending.read_text().splitlines() if ln.strip()]
            sent = 0
            try:
                for line in lines:
                    doc = json.loads(line)
                    self.coord.append_run_record(self.svc, doc["rid"], doc)
                    sent += 1
            finally:
                rest = lines[sent:]
                if rest:
                    self.pending.write_text("\n".join(rest) + "\n")
                else:
                    self.pending.unlink(missing_ok=True)
                    self.maybe_pending = False

    def flush(self) -> None:
        from orchestrator.coordination import CoordinationError

        if not (self.maybe_pending or self.unreleased):  # the idle case: nothing to do
            return
        with self.lock, contextlib.suppress(CoordinationError):
            self._flush()

    def records(self, rids: Iterable[str] | None = None) -> list[RunRecord]:
        wanted = set(rids) if rids is not None else None
        docs = self.coord.run_records(self.svc)
        out = []
        for doc in docs:
            if wanted is not None and doc.get("rid") not in wanted:
                continue
            with contextlib.suppress(KeyError, ValueError, TypeError):
                out.append(RunRecord.from_dict(doc))
        return out

    def last(self, rid: str) -> RunRecord | None:
        for record in reversed(self.records([rid])):
            if record.started_at is not None and record.ended_at is not None:
                return record
        return None


@contextlib.contextmanager
def _pending_lock(base: Path) -> Iterator[None]:
    """The queue is shared with the fence keeper (another process): one writer at a time."""
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".pending.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def queue_record(base: Path, record: RunRecord) -> None:
    """Queue a record for ZooKeeper (sent, in order, by the agent's next flush)."""
    with _pending_lock(base), open(base / "pending-records.jsonl", "a") as fh:
        fh.write(json.dumps(record.to_dict()) + "\n")
