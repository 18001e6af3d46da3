"""A service's page in headless Chromium: after a switch its timeline has marks in two lanes
and a relocation between them; its runs show their output; times are local and relative."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collector_support import TOKENS, CollectorProcess, get, http
from test_collector_web import dump_dom

from orchestrator.push import PushClient
from orchestrator.runs.record import RunRecord, RunStatus, new_run_id

T0 = datetime.now(UTC) - timedelta(minutes=10)


def run(node: str, minute: int, status: RunStatus, out: Path | None = None,
        started: bool = True) -> RunRecord:
    at = T0 + timedelta(minutes=minute)
    return RunRecord(new_run_id(at), "web", "task#0", node, "scheduler", status,
                     scheduled_at=at, started_at=at if started else None,
                     ended_at=at + timedelta(seconds=20), exit_code=0 if started else None,
                     reason=None if started else "missed 1 slot while no node could run the job",
                     log_path=str(out) if out else None)


def test_timeline_after_a_switch_has_marks_in_two_lanes(collector: CollectorProcess,
                                                        tmp_path: Path) -> None:
    n1 = PushClient(collector.url, TOKENS["alpha"], "alpha", tmp_path / "q1", node="n1")
    n2 = PushClient(collector.url, TOKENS["alpha"], "alpha", tmp_path / "q2", node="n2")
    output = tmp_path / "out.log"
    output.write_text("backup done <42 files>\n")
    config = ("[DEFAULT]\nnodes = n1 n2\nstatus_schedule = @10m\n\n"
              "[task#0]\ncommand = /bin/true\nschedule = @1m\n")
    n1.push("config", [{"service": "web", "text": config}])
    n1.push("status", [{"service": "web", "avail": "up"}])
    before = [run("n1", 0, RunStatus.OK, output), run("n1", 1, RunStatus.FAILED, output)]
    n1.push("runs", before)
    # the switch: n1 stops, n2 starts and runs the next slots; one slot fell in between
    n1.push("status", [{"service": "web", "avail": "down"}])
    n2.push("status", [{"service": "web", "avail": "up"}])
    after = [run("n2", 2, RunStatus.MISSED, started=False), run("n2", 3, RunStatus.OK, output)]
    n2.push("runs", after)

    html = dump_dom(collector.url + "/services/alpha/web", tmp_path / "profile")
    svg = re.search(r"<svg[^>]*id=\"timeline\".*?</svg>", html, re.S).group(0)
    lanes = re.findall(r'<g class="lane" data-node="([^"]+)"', svg)
    assert lanes == ["n1", "n2"]
    marks = re.findall(r'class="mark st-(\w+)" data-run-id="([^"]+)" data-node="(\w+)"', svg)
    assert {(run_id, node) for _, run_id, node in marks} == {
        (r.run_id, r.node) for r in before + after}
    assert {node for _, _, node in marks} == {"n1", "n2"}  # marks in two lanes
    assert {status for status, _, _ in marks} == {"ok", "failed", "missed"}
    assert re.search(r'class="relocation" data-from="n1" data-to="n2"', svg)
    assert 'id="active-node">n2<' in html

    # instances, last runs with their output (escaped), the schedule with its last run
    assert re.search(r'<tr data-node="n1" data-status="down">', html)
    outputs = re.findall(r'<pre class="output" data-run-id="([^"]+)">([^<]*)</pre>', html)
    assert {run_id for run_id, _ in outputs} == {before[0].run_id, before[1].run_id,
                                                 after[1].run_id}
    assert all(text == "backup done &lt;42 files&gt;\n" for _, text in outputs)
    sched = re.search(r'<tr data-job="task#0" data-status="ok">(.*?)</tr>', html).group(1)
    assert "[task#0].schedule" not in sched and "task#0.schedule" in sched and "@1m" in sched
    # times for people: the script rewrote every one in the browser's zone, relative too
    times = re.findall(r"<time ([^>]*)>([^<]*)</time>", html)
    assert times and all('data-local="1"' in a for a, _ in times)
    assert all(re.search(r"\((\d+ (s|min|h|d) ago|in \d+ (s|min|h|d))\)$", t) for _, t in times)

    # the front page links the service, lists both nodes (no pushasset needed), filters
    index = get(collector, "/")
    assert 'href="/services/alpha/web"' in index
    assert re.findall(r'<tr data-node="(n\d)">', index) == ["n1", "n2"]
    failed = get(collector, "/?status=failed")
    assert re.findall(r'<tr data-run-id="([^"]+)"', failed) == [before[1].run_id]
    assert '<option value="failed" selected>' in failed

    assert http("GET", collector.url + "/services/alpha/nope")[0] == 404
    assert http("GET", collector.url + "/services/alpha")[0] == 404
    out = get(collector, f"/api/v1/output?cluster=alpha&run_id={before[0].run_id}")
    assert out["output"] == "backup done <42 files>\n" and out["truncated"] is False
