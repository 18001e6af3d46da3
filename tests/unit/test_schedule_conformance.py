"""Every public conformance vector (/work/shared/conformance/schedules-public.jsonl)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from orchestrator.schedule import ScheduleError, parse

VECTORS = Path("/work/shared/conformance/schedules-public.jsonl")
ROWS = [json.loads(line) for line in VECTORS.read_text().splitlines() if line.strip()]


def _dt(text):
    return datetime.fromisoformat(text) if text else None


def test_vector_file_is_complete():
    assert len(ROWS) == 531


@pytest.mark.parametrize("row", ROWS, ids=[f"public:{i}" for i in range(1, len(ROWS) + 1)])
def test_vector(row):
    now, last = _dt(row["now"]), _dt(row["last"])
    if not row["valid"]:
        with pytest.raises(ScheduleError):
            parse(row["schedule"], tz="UTC")
        return
    sched = parse(row["schedule"], tz="UTC")
    assert sched.kind == "window"
    assert sched.is_due(now, last) is row["allowed"]
    got = sched.next_run(now, last)
    if "window_start" in row:
        assert sched.window(now, last) == (
            None
            if row["window_start"] is None
            else (_dt(row["window_start"]), _dt(row["window_end"]))
        )
        # with a splay key the run must land on an allowed instant inside the window
        splayed = parse(row["schedule"], tz="UTC", splay_key="svc/task#0/node1")
        for candidate in (got, splayed.next_run(now, last)):
            if row["window_start"] is None:
                assert candidate is None
            else:
                assert _dt(row["window_start"]) <= candidate <= _dt(row["window_end"])
                assert sched.is_due(candidate, last)
    else:
        assert got == _dt(row["next"])
        assert (got == now) is row["allowed"]
