"""The nemesis soak's checker: pure functions over what the soak left on disk.

Inputs (in the soak's directory, see bench/nemesis.py):

* ``events``: the app's lines ``<epoch> start|stop|crash <node>`` (start and stop are written
  by the app's own start/stop commands; ``crash`` by the nemesis when it killed a whole node
  and its app with it);
* ``tasks``: the scheduled task's lines ``<epoch> begin|end <node> <slot> <run id> ...``
  (begin first thing, end at its end or from its SIGTERM trap; the nemesis writes an end
  for the runs of a node it crashed, with the crash's time);
* ``records.json``: the cluster's run records of the task (``svcmgr print runs``, collected
  during the soak because the history is bounded), missed slots included;
* ``faults.jsonl``: one line per fault injected (kind, node, at, recovered_at, ...);
* ``meta.json``: the soak's window (``started_at``, ``ended_at``), the task's period,
  ``checked_until`` (the slots after it may not be settled yet).

What it says, and what must be 0: app overlaps across nodes, task overlaps across nodes,
duplicate slots (one slot started twice), unexplained misses (a slot due after the first run
and before ``checked_until`` that was neither run nor recorded: ``missed`` by the next
holder under misfire=once, ``refused`` by max_parallel or the keeper, ``interrupted`` by a
fence before the command wrote its line, ...). Also availability (share of the window the
app was up on some node) and, for the SIGKILLs of the active agent, death -> app stopped on
the old node and death -> app up on another node.

Rerun on a kept directory: .venv/bin/python bench/nemesis_check.py DIR   (exit 1 on a must-be-0)
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from benchstats import percentile

# A run started this late is no longer on its slot: the chain of slots restarts from it
# (orchestrator/daemon/scheduler.py ON_TIME: run_at = slot when at most 5 s late, else now).
ON_TIME = 5.0
# Slack when telling whether a slot is missing between two accounted slots.
TOLERANCE = 0.5
# Statuses of records whose command ran (so the slot ran even without a begin line).
RAN = frozenset({"ok", "failed", "timeout"})


@dataclass(frozen=True)
class Interval:
    node: str
    start: float
    end: float
    ended: bool = True  # False: no end was seen (closed at the window's end)
    run_id: str = ""


@dataclass(frozen=True)
class TaskLine:
    ts: float
    what: str  # begin | end
    node: str
    slot: float | None
    run_id: str
    note: str = ""


@dataclass
class Report:
    faults: dict[str, int] = field(default_factory=dict)
    app_overlaps: list[tuple[Interval, Interval]] = field(default_factory=list)
    task_overlaps: list[tuple[Interval, Interval]] = field(default_factory=list)
    duplicates: dict[float, list[str]] = field(default_factory=dict)
    unexplained: list[float] = field(default_factory=list)
    slots_accounted: int = 0
    slots_run: int = 0
    explained_by_status: dict[str, int] = field(default_factory=dict)
    tasks_unended: int = 0
    availability: float = 0.0
    app_down_longest: float = 0.0
    kill_stop: list[float] = field(default_factory=list)
    kill_up: list[float] = field(default_factory=list)
    kill_no_stop: int = 0
    kill_no_up: int = 0
    app_intervals: int = 0
    task_runs: int = 0
    window: float = 0.0
    by_kind: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def failures(self) -> dict[str, int]:
        return {"app overlaps": len(self.app_overlaps),
                "task overlaps": len(self.task_overlaps),
                "duplicate slots": sum(len(v) - 1 for v in self.duplicates.values()),
                "unexplained misses": len(self.unexplained)}

    @property
    def ok(self) -> bool:
        return not any(self.failures.values())


# ----------------------------------------------------------------------------- parsing


def parse_ts(text: str | None) -> float | None:
    """An ISO timestamp (with its zone) or an epoch number -> epoch seconds."""
    if not text or text == "-":
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def parse_events(lines: Iterable[str]) -> list[tuple[float, str, str]]:
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 3 and parts[1] in ("start", "stop", "crash"):
            try:
                out.append((float(parts[0]), parts[1], parts[2]))
            except ValueError:
                continue
    return sorted(out)


def parse_tasks(lines: Iterable[str]) -> list[TaskLine]:
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) < 5 or parts[1] not in ("begin", "end"):
            continue  # a line torn by a SIGKILL mid-write
        try:
            ts = float(parts[0])
        except ValueError:
            continue
        out.append(TaskLine(ts, parts[1], parts[2], parse_ts(parts[3]), parts[4],
                            " ".join(parts[5:])))
    return sorted(out, key=lambda t: t.ts)


def slot_key(ts: float) -> float:
    return round(ts, 3)


# ----------------------------------------------------------------------------- intervals


def app_intervals(events: list[tuple[float, str, str]], until: float) -> list[Interval]:
    """Per node, from a start to the next stop (or crash); still up = ends ``until``."""
    opened: dict[str, float] = {}
    out = []
    for ts, what, node in sorted(events):
        if what == "start":
            opened.setdefault(node, ts)
        elif node in opened:
            out.append(Interval(node, opened.pop(node), ts))
    out += [Interval(node, ts, max(ts, until), ended=False) for node, ts in opened.items()]
    return sorted(out, key=lambda i: (i.start, i.node))


def task_intervals(lines: list[TaskLine], records: list[dict[str, Any]],
                   until: float) -> list[Interval]:
    """One interval per run id: its begin line to its last end line; without an end line,
    to its record's ``ended_at``; without either, to ``until`` (``ended=False``)."""
    ended_at = {r.get("run_id"): parse_ts(r.get("ended_at")) for r in records}
    begins: dict[str, TaskLine] = {}
    ends: dict[str, float] = {}
    for t in lines:
        if t.what == "begin":
            begins.setdefault(t.run_id, t)
        else:  # the last one: a process that wrote an end after its "crash" line lived on
            ends[t.run_id] = max(ends.get(t.run_id, t.ts), t.ts)
    out = []
    for run_id, b in begins.items():
        end = ends.get(run_id)
        if end is not None and end >= b.ts:
            out.append(Interval(b.node, b.ts, end, True, run_id))
        elif ended_at.get(run_id) is not None and ended_at[run_id] >= b.ts:
            out.append(Interval(b.node, b.ts, ended_at[run_id], True, run_id))
        else:
            out.append(Interval(b.node, b.ts, max(b.ts, until), False, run_id))
    return sorted(out, key=lambda i: (i.start, i.node))


def overlaps(intervals: list[Interval]) -> list[tuple[Interval, Interval]]:
    """Pairs of intervals of different nodes that intersect in time (touching is not)."""
    ordered = sorted(intervals, key=lambda i: i.start)
    found = []
    for k, a in enumerate(ordered):
        for b in ordered[k + 1:]:
            if b.start >= a.end:
                break
            if a.node != b.node and b.start < a.end and a.start < b.end:
                found.append((a, b))
    return found


def union_length(intervals: Iterable[Interval], lo: float, hi: float) -> tuple[float, float]:
    """(time covered by the intervals within [lo, hi], longest uncovered stretch)."""
    spans = sorted((max(i.start, lo), min(i.end, hi)) for i in intervals
                   if i.end > lo and i.start < hi)
    covered, cursor, gap = 0.0, lo, 0.0
    for s, e in spans:
        if s > cursor:
            gap = max(gap, s - cursor)
        if e > cursor:
            covered += e - max(s, cursor)
            cursor = e
    gap = max(gap, hi - cursor)
    return covered, gap


# ----------------------------------------------------------------------------- slots


def slot_accounting(lines: list[TaskLine], records: list[dict[str, Any]], period: float,
                    until: float, rid: str = "task#0") -> dict[str, Any]:
    """Which slots ran, which were recorded as not run (and how), which are missing.

    A slot is accounted for by a begin line (it ran) or by a record with that
    ``scheduled_at``. Between two consecutive accounted slots a and b, the slots expected are
    anchor(a) + k * period; anchor(a) is a's slot, or a's start when it started more than
    ON_TIME late (the scheduler's chain restarts there). Each one before b - TOLERANCE is an
    unexplained miss, and so are those after the last accounted slot up to ``until``."""
    runs: dict[float, set[str]] = defaultdict(set)
    started: dict[float, float] = {}
    for t in lines:
        if t.what == "begin" and t.slot is not None:
            key = slot_key(t.slot)
            runs[key].add(t.run_id)
            started[key] = min(started.get(key, t.ts), t.ts)
    statuses: dict[float, set[str]] = defaultdict(set)
    for r in records:
        if r.get("rid", rid) != rid:
            continue
        slot = parse_ts(r.get("scheduled_at"))
        if slot is None:
            continue
        key = slot_key(slot)
        status = str(r.get("status"))
        statuses[key].add(status)
        if status in RAN:
            runs[key].add(str(r.get("run_id")))
            if r.get("started_at"):
                started.setdefault(key, parse_ts(r["started_at"]) or slot)
    accounted = sorted(set(runs) | set(statuses))
    explained: Counter[str] = Counter()
    for key in accounted:
        if key not in runs or not runs[key]:
            explained[",".join(sorted(statuses[key]))] += 1
    missing: list[float] = []

    def anchor(key: float) -> float:
        s = started.get(key)
        return s if s is not None and s - key > ON_TIME else key

    for a, b in zip(accounted, accounted[1:], strict=False):
        t = anchor(a) + period
        while t < b - TOLERANCE:
            missing.append(slot_key(t))
            t += period
    if accounted:
        t = anchor(accounted[-1]) + period
        while t <= until:
            missing.append(slot_key(t))
            t += period
    duplicates = {k: sorted(v) for k, v in runs.items() if len(v) > 1}
    return {"accounted": accounted, "run": sorted(k for k in runs if runs[k]),
            "explained": dict(explained), "missing": missing, "duplicates": duplicates}


# ----------------------------------------------------------------------------- faults


def kill_timings(faults: list[dict[str, Any]], events: list[tuple[float, str, str]],
                 horizon: float = 30.0, kind: str = "kill_agent",
                 ) -> tuple[list[float], list[float], int, int]:
    """For each fault of ``kind`` (by default the SIGKILL of an agent) on the node that ran
    the app (``active``): seconds from the fault to the app's stop on that node, and to its
    start on another node; plus how many had no stop, or no start elsewhere, within
    ``horizon``."""
    stops, ups, no_stop, no_up = [], [], 0, 0
    starts = sorted(float(f["at"]) for f in faults)
    for f in faults:
        if f.get("kind") != kind or not f.get("active"):
            continue
        t0, node = float(f["at"]), f["node"]
        # what the next fault caused is not this one's doing
        limit = min([t0 + horizon] + [t for t in starts if t > t0])
        stop = next((ts for ts, what, n in events
                     if n == node and what in ("stop", "crash") and t0 <= ts <= limit),
                    None)
        up = next((ts for ts, what, n in events
                   if n != node and what == "start" and t0 <= ts <= limit), None)
        if stop is None:
            no_stop += 1
        else:
            stops.append(stop - t0)
        if up is None:
            no_up += 1
        else:
            ups.append(up - t0)
    return stops, ups, no_stop, no_up


# ----------------------------------------------------------------------------- the check


def check(events: list[tuple[float, str, str]], tasks: list[TaskLine],
          records: list[dict[str, Any]], faults: list[dict[str, Any]],
          meta: dict[str, Any]) -> Report:
    start, end = float(meta["started_at"]), float(meta["ended_at"])
    period = float(meta.get("period", 2.0))
    until = float(meta.get("checked_until", end - 2 * period))
    rid = meta.get("rid", "task#0")
    rep = Report(window=end - start)
    rep.faults = dict(Counter(f["kind"] for f in faults))
    apps = app_intervals(events, end)
    rep.app_intervals = len(apps)
    rep.app_overlaps = overlaps(apps)
    runs = task_intervals(tasks, records, end)
    rep.task_runs = len(runs)
    rep.tasks_unended = sum(1 for i in runs if not i.ended)
    rep.task_overlaps = overlaps(runs)
    acc = slot_accounting(tasks, records, period, until, rid)
    rep.duplicates = acc["duplicates"]
    rep.unexplained = acc["missing"]
    rep.slots_accounted = len(acc["accounted"])
    rep.slots_run = len(acc["run"])
    rep.explained_by_status = acc["explained"]
    covered, gap = union_length(apps, start, end)
    rep.availability = 100.0 * covered / (end - start) if end > start else 0.0
    rep.app_down_longest = gap
    rep.kill_stop, rep.kill_up, rep.kill_no_stop, rep.kill_no_up = kill_timings(faults, events)
    for kind in sorted({f["kind"] for f in faults if f.get("active")}):
        stops, ups, no_stop, no_up = kill_timings(faults, events, kind=kind)
        rep.by_kind[kind] = {
            "n": sum(1 for f in faults if f["kind"] == kind and f.get("active")),
            "stopped_p50": percentile(stops, 50), "stopped_max": max(stops, default=None),
            "not_stopped": no_stop, "up_elsewhere_p50": percentile(ups, 50),
            "up_elsewhere_p95": percentile(ups, 95), "not_up_elsewhere": no_up}
    return rep


def nearest_fault(faults: list[dict[str, Any]], ts: float) -> str:
    """The fault nearest in time to ``ts`` (one injected just after a slot can be its
    cause: the slot's run was under way)."""
    if not faults:
        return "no fault injected"
    f = min(faults, key=lambda f: abs(float(f["at"]) - ts))
    d = ts - float(f["at"])
    return (f"{d:.2f}s after" if d >= 0 else f"{-d:.2f}s before") + \
        f" {f['kind']} of {f.get('node', '?')}"


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f} s"


def render(rep: Report, faults: list[dict[str, Any]] | None = None) -> str:
    faults = faults or []
    lines = [f"window {rep.window:.0f} s, faults injected {sum(rep.faults.values())}: "
             + ", ".join(f"{k} {v}" for k, v in sorted(rep.faults.items()))]
    fl = rep.failures
    lines.append(f"app intervals {rep.app_intervals}; app overlaps across nodes: "
                 f"{fl['app overlaps']}")
    for a, b in rep.app_overlaps[:10]:
        lines.append(f"  OVERLAP app {a.node} [{a.start:.3f}, {a.end:.3f}] x {b.node} "
                     f"[{b.start:.3f}, {b.end:.3f}] ({min(a.end, b.end) - b.start:.3f} s; "
                     f"{nearest_fault(faults, b.start)})")
    lines.append(f"task runs {rep.task_runs} ({rep.tasks_unended} without an end); task "
                 f"overlaps across nodes: {fl['task overlaps']}")
    for a, b in rep.task_overlaps[:10]:
        lines.append(f"  OVERLAP task {a.node} {a.run_id} [{a.start:.3f}, {a.end:.3f}] x "
                     f"{b.node} {b.run_id} [{b.start:.3f}, {b.end:.3f}] "
                     f"({nearest_fault(faults, b.start)})")
    lines.append(f"slots accounted {rep.slots_accounted}, run {rep.slots_run}; duplicate "
                 f"slots: {fl['duplicate slots']}")
    for slot, ids in list(rep.duplicates.items())[:10]:
        lines.append(f"  DUPLICATE slot {datetime.fromtimestamp(slot).isoformat()} runs "
                     f"{', '.join(ids)} ({nearest_fault(faults, slot)})")
    lines.append("not run, recorded: " + (", ".join(
        f"{k} {v}" for k, v in sorted(rep.explained_by_status.items())) or "none"))
    lines.append(f"unexplained misses: {fl['unexplained misses']}")
    for slot in rep.unexplained[:20]:
        lines.append(f"  MISSING slot {datetime.fromtimestamp(slot).isoformat()} "
                     f"({nearest_fault(faults, slot)})")
    lines.append(f"availability {rep.availability:.2f} % (longest time down "
                 f"{rep.app_down_longest:.2f} s)")
    n = len(rep.kill_stop)
    lines.append(f"agent SIGKILL (active node, n={n}): death -> app stopped on the old node "
                 f"p50 {_fmt(percentile(rep.kill_stop, 50))} p95 "
                 f"{_fmt(percentile(rep.kill_stop, 95))} max "
                 f"{_fmt(max(rep.kill_stop) if rep.kill_stop else None)}"
                 + (f" ({rep.kill_no_stop} never stopped)" if rep.kill_no_stop else ""))
    lines.append(f"agent SIGKILL (active node, n={len(rep.kill_up)}): death -> app up on the "
                 f"new node p50 {_fmt(percentile(rep.kill_up, 50))} p95 "
                 f"{_fmt(percentile(rep.kill_up, 95))} max "
                 f"{_fmt(max(rep.kill_up) if rep.kill_up else None)}"
                 + (f" ({rep.kill_no_up} never up elsewhere)" if rep.kill_no_up else ""))
    for kind, d in rep.by_kind.items():
        lines.append(f"  {kind} of the active node (n={d['n']}): app stopped there p50 "
                     f"{_fmt(d['stopped_p50'])} max {_fmt(d['stopped_max'])} "
                     f"({d['not_stopped']} not stopped before the next fault); up elsewhere p50 "
                     f"{_fmt(d['up_elsewhere_p50'])} p95 {_fmt(d['up_elsewhere_p95'])} "
                     f"({d['not_up_elsewhere']} not before the next fault)")
    lines.append("RESULT: " + ("OK" if rep.ok else "FAIL (" + ", ".join(
        f"{k} {v}" for k, v in fl.items() if v) + ")"))
    return "\n".join(lines)


def summary(rep: Report) -> dict[str, Any]:
    return {
        "faults": rep.faults, **rep.failures,
        "slots_accounted": rep.slots_accounted, "slots_run": rep.slots_run,
        "not_run_recorded": rep.explained_by_status, "task_runs": rep.task_runs,
        "tasks_unended": rep.tasks_unended,
        "availability_pct": round(rep.availability, 3),
        "longest_down_s": round(rep.app_down_longest, 3),
        "kill_stop_s": {"n": len(rep.kill_stop), "p50": percentile(rep.kill_stop, 50),
                        "p95": percentile(rep.kill_stop, 95),
                        "max": max(rep.kill_stop) if rep.kill_stop else None},
        "kill_up_s": {"n": len(rep.kill_up), "p50": percentile(rep.kill_up, 50),
                      "p95": percentile(rep.kill_up, 95),
                      "max": max(rep.kill_up) if rep.kill_up else None},
        "by_kind_s": rep.by_kind,
    }


def load(directory: Path) -> tuple[list, list, list, list, dict]:
    def lines(name: str) -> list[str]:
        path = directory / name
        return path.read_text(errors="replace").splitlines() if path.exists() else []

    records = json.loads((directory / "records.json").read_text())
    faults = [json.loads(x) for x in lines("faults.jsonl") if x.strip()]
    meta = json.loads((directory / "meta.json").read_text())
    return parse_events(lines("events")), parse_tasks(lines("tasks")), records, faults, meta


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: nemesis_check.py DIR  (a directory the nemesis soak kept)",
              file=sys.stderr)
        return 2
    events, tasks, records, faults, meta = load(Path(args[0]))
    rep = check(events, tasks, records, faults, meta)
    print(render(rep, faults))
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main())
