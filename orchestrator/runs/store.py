"""Run record stores. The file store keeps one JSON file per run on this node; the cluster
keeps them in ZooKeeper (coordination) behind the same interface.

Layout under ``<var>/services/<svc>/runs/``: ``<rid>/<run_id>.json`` (the record),
``<rid>/<run_id>.log`` (the output), ``running/<run_id>.json`` (a marker while it runs).
A marker whose process is gone is a stale run: it is finished as interrupted, with a reason,
so it never blocks later runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from orchestrator.runs import events
from orchestrator.runs.record import RunRecord, RunStatus

HISTORY_PER_JOB = 100


class RunStore(Protocol):
    def log_path(self, rid: str, run_id: str) -> Path: ...

    def begin(self, record: RunRecord, max_parallel: int | None = None) -> list[RunRecord]:
        """Record a run as started; return the runs blocking it (then nothing is written)."""
        ...

    def save(self, record: RunRecord) -> bool | None:
        """Record a finished (or never started) run (False: it had a final record already)."""
        ...

    def note_command(self, record: RunRecord, pid: int, started: float | None) -> None:
        """The run started a command process: while it lives the run is not stale, even if
        the process that started it is gone (``svcmgr run`` SIGKILLed, the command orphaned)."""
        ...

    def records(self, rids: Iterable[str] | None = None) -> list[RunRecord]:
        """Runs of the service, oldest first."""
        ...

    def last(self, rid: str) -> RunRecord | None: ...


def process_started(pid: int) -> float | None:
    """A process's create time (psutil's), to tell it from a later one with the same pid."""
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def process_alive(pid: int | None, started: float | None) -> bool:
    """True if ``pid`` still runs and is the same process (create time matches); a zombie
    (an orphan whose new parent has not reaped it yet) has ended."""
    if not pid:
        return False
    import psutil

    try:
        proc = psutil.Process(pid)
        if started is not None and abs(proc.create_time() - started) >= 0.01:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE  # exited, not yet reaped
    except psutil.Error:
        return False


class FileRunStore:
    """Run records of one service on this node, as files."""

    def __init__(self, base: Path):
        self.base = base

    def _rid_dir(self, rid: str) -> Path:
        return self.base / rid

    def log_path(self, rid: str, run_id: str) -> Path:
        return self._rid_dir(rid) / f"{run_id}.log"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.base.mkdir(parents=True, exist_ok=True)
        with open(self.base / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _write(self, path: Path, record: RunRecord) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record.to_dict(), sort_keys=True))
        os.replace(tmp, path)

    def running(self, rid: str | None = None) -> list[RunRecord]:
        """Runs in progress; stale ones (runner gone) are finished as interrupted."""
        return self._running(rid)[0]

    def finish_stale(self) -> list[RunRecord]:
        """Finish every stale run (its runner and command gone: a crash between its begin and
        its end) as interrupted, with why; the records so finished."""
        with self._locked():
            return self._running(None)[1]

    def _running(self, rid: str | None) -> tuple[list[RunRecord], list[RunRecord]]:
        result, stale = [], []
        for marker in sorted((self.base / "running").glob("*.json")):
            try:
                record = RunRecord.from_dict(json.loads(marker.read_text()))
            except (OSError, ValueError, KeyError):
                continue
            if rid is not None and record.rid != rid:
                continue
            command = record.extra.get("command_pid")
            if not (process_alive(record.pid, record.pid_started)
                    or process_alive(command, record.extra.get("command_started"))):
                gone = f"pid {record.pid}" + (f", command pid {command}" if command else "")
                final = record.finished(RunStatus.INTERRUPTED,
                                        reason=f"the process running it ({gone}) vanished")
                self._finish(final)
                stale.append(final)
                continue
            result.append(record)
        return result, stale

    def begin(self, record: RunRecord, max_parallel: int | None = None) -> list[RunRecord]:
        with self._locked():
            if max_parallel is not None:
                active = self.running(record.rid)
                if len(active) >= max_parallel:
                    return active
            self._write(self.base / "running" / f"{record.run_id}.json", record)
            self._write(self._rid_dir(record.rid) / f"{record.run_id}.json", record)
        return []

    def save(self, record: RunRecord) -> bool:
        """Write the record; False when the run already has a final record (the first final
        word wins: the fence keeper's 'interrupted' over a late 'failed' of its runner)."""
        with self._locked():
            if record.status is not RunStatus.RUNNING and self._finished(record):
                return False
            self._finish(record)
        return True

    def recorded(self, rid: str, run_id: str) -> RunRecord | None:
        """The record of one run as stored, or None."""
        try:
            doc = json.loads((self._rid_dir(rid) / f"{run_id}.json").read_text())
            return RunRecord.from_dict(doc)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _finished(self, record: RunRecord) -> bool:
        try:
            doc = json.loads((self._rid_dir(record.rid) / f"{record.run_id}.json").read_text())
        except (OSError, ValueError):
            return False
        return doc.get("status") not in (None, str(RunStatus.RUNNING))

    def note_command(self, record: RunRecord, pid: int, started: float | None) -> None:
        marker = self.base / "running" / f"{record.run_id}.json"
        with self._locked():
            if marker.exists():  # not finished meanwhile
                noted = record._replace(extra={**record.extra, "command_pid": pid,
                                               "command_started": started})
                self._write(marker, noted)

    def _finish(self, record: RunRecord) -> None:
        self._write(self._rid_dir(record.rid) / f"{record.run_id}.json", record)
        with contextlib.suppress(FileNotFoundError):
            (self.base / "running" / f"{record.run_id}.json").unlink()
        self._prune(record.rid)
        if record.status is not RunStatus.RUNNING:
            events.saved(record)  # the agent's metrics count it

    def _prune(self, rid: str) -> None:
        files = sorted(self._rid_dir(rid).glob("*.json"))
        for old in files[:-HISTORY_PER_JOB]:
            for path in self._rid_dir(rid).glob(f"{old.stem}.*"):  # record, output, hook logs
                path.unlink(missing_ok=True)

    def records(self, rids: Iterable[str] | None = None) -> list[RunRecord]:
        wanted = set(rids) if rids is not None else None
        if not self.base.is_dir():
            return []
        self.running()  # settle stale runs before showing them
        result = []
        for rid_dir in self.base.iterdir():
            if not rid_dir.is_dir() or rid_dir.name == "running":
                continue
            if wanted is not None and rid_dir.name not in wanted:
                continue
            for path in rid_dir.glob("*.json"):
                try:
                    result.append(RunRecord.from_dict(json.loads(path.read_text())))
                except (OSError, ValueError, KeyError):
                    continue
        result.sort(key=lambda r: r.run_id)  # run ids begin with their creation time
        return result

    def last(self, rid: str) -> RunRecord | None:
        """The newest finished run of ``rid`` that actually started."""
        files = sorted(self._rid_dir(rid).glob("*.json"), reverse=True)
        for path in files:
            try:
                record = RunRecord.from_dict(json.loads(path.read_text()))
            except (OSError, ValueError, KeyError):
                continue
            if record.started_at is not None and record.status != RunStatus.RUNNING:
                return record
        return None
