"""What a run leaves behind: who ran what, when it was due, when it ran, how it ended, and why."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"  # exit code 0
    FAILED = "failed"  # non-zero exit, or could not start
    TIMEOUT = "timeout"  # killed at its timeout
    INTERRUPTED = "interrupted"  # killed by a relocation, a fence, or its runner vanished
    ABORTED = "aborted"  # confirmation refused or not given
    SKIPPED = "skipped"  # not run: requirement not met, disabled, ...; reason says which
    REFUSED = "refused"  # not run: max_parallel reached, impersonation impossible, ...
    MISSED = "missed"  # was due while nothing could run it (misfire=skip or beyond grace)


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by time, unique across nodes: ``20261127T193701123456Z-a1b2c3``."""
    now = now or datetime.now(UTC)
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%S%f}Z-{os.urandom(3).hex()}"


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


class RunRecord(NamedTuple):
    run_id: str
    service: str
    rid: str
    node: str
    origin: str  # "manual" | "scheduler"
    status: RunStatus
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    exit_code: int | None = None
    reason: str | None = None
    log_path: str | None = None
    pid: int | None = None
    pid_started: float | None = None  # process create time: tells a reused pid apart
    epoch: int | None = None  # fencing epoch of the lease the run was claimed under
    extra: Mapping[str, Any] = MappingProxyType({})  # read-only: _replace with a new one

    def to_dict(self) -> dict[str, Any]:
        d = self._asdict()
        d["extra"] = dict(self.extra)
        for key in ("scheduled_at", "started_at", "ended_at"):
            d[key] = iso(d[key])
        d["status"] = str(self.status)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        kwargs = {k: d.get(k) for k in cls._fields if k in d}
        for key in ("scheduled_at", "started_at", "ended_at"):
            if kwargs.get(key):
                kwargs[key] = datetime.fromisoformat(kwargs[key])
        kwargs["status"] = RunStatus(kwargs["status"])
        kwargs.setdefault("extra", {})
        return cls(**kwargs)

    def finished(self, status: RunStatus, *, exit_code: int | None = None,
                 reason: str | None = None, ended_at: datetime | None = None) -> RunRecord:
        return self._replace(status=status, exit_code=exit_code, reason=reason,
                             ended_at=ended_at or datetime.now(UTC))
