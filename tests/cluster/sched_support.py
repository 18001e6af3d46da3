"""Helpers for scheduler tests with real daemons (on top of daemons.py).

A scheduled task records each run it makes as one line in a shared file:
``<epoch seconds> <node> <ORCHESTRATOR_SCHEDULED_AT> <ORCHESTRATOR_RUN_ID>``. From those lines a
test finds which node ran which slot, duplicates (a slot run twice) and misses (an expected
slot nobody ran).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from daemons import Cluster


@dataclass(frozen=True)
class Run:
    ts: float  # when the task started (its own clock reading)
    node: str
    slot: str  # ORCHESTRATOR_SCHEDULED_AT as the task saw it
    run_id: str

    @property
    def slot_ts(self) -> float:
        return datetime.fromisoformat(self.slot).timestamp()


def recording_task(runs_file: Path, rid: str = "task#0", schedule: str = "@2s",
                   extra: str = "", sleep: float = 0.0) -> str:
    """A task section whose command appends one line per run to ``runs_file``."""
    tail = f"; sleep {sleep:g}" if sleep else ""
    return (f"[{rid}]\n"
            f"command = sh -c 'echo \"$(date +%s.%N) {{nodename}} $ORCHESTRATOR_SCHEDULED_AT "
            f"$ORCHESTRATOR_RUN_ID\" >> {runs_file}{tail}'\n"
            f"schedule = {schedule}\n{extra}")


def sched_config(c: Cluster, runs_file: Path, schedule: str = "@2s", nodes: Any = None,
                 task_extra: str = "", extra: str = "", sleep: float = 0.0) -> str:
    """``c.ha_config()`` plus one recording task."""
    return c.ha_config(nodes=nodes, extra=recording_task(runs_file, schedule=schedule,
                                                         extra=task_extra, sleep=sleep) + extra)


def read_runs(runs_file: Path) -> list[Run]:
    if not runs_file.exists():
        return []
    out = []
    for line in runs_file.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out.append(Run(float(parts[0]), parts[1], parts[2],
                           parts[3] if len(parts) > 3 else ""))
    return sorted(out, key=lambda r: r.ts)


def duplicates(runs: list[Run]) -> dict[str, list[Run]]:
    """Slots started more than once (on any nodes)."""
    counts = Counter(r.slot_ts for r in runs)
    return {r.slot: [x for x in runs if x.slot_ts == r.slot_ts] for r in runs
            if counts[r.slot_ts] > 1}


def gaps(runs: list[Run], period: float, tolerance: float = 0.5) -> list[tuple[Run, Run]]:
    """Consecutive runs (by slot) further apart than one period: a lost slot between them."""
    ordered = sorted(runs, key=lambda r: r.slot_ts)
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False)
            if b.slot_ts - a.slot_ts > period + tolerance]


def nodes_of(runs: list[Run]) -> set[str]:
    return {r.node for r in runs}


def runs_json(c: Cluster, node: str, svc: str, rid: str | None = None) -> list[dict[str, Any]]:
    args = ["print", "runs", "--format", "json"] + (["--rid", rid] if rid else [])
    return json.loads(c.svc(node, svc, *args, check=True).stdout)


def schedule_json(c: Cluster, node: str, svc: str) -> list[dict[str, Any]]:
    return json.loads(c.svc(node, svc, "print", "schedule", "--format", "json",
                            check=True).stdout)
