"""``svcmgr run`` pushes its run records to a real collector; a collector that is down or
does not answer delays them (queued on disk) but neither fails nor holds up the run."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from collector_support import TOKENS, CollectorProcess, collector_env, get

from orchestrator.builtins.push import CLI_PUSH_BUDGET

SVCMGR = Path(sys.executable).parent / "svcmgr"


class NodeRoot:
    def __init__(self, root: Path, collector_url: str | None):
        self.root = root
        conf = root / "etc" / "orchestrator" / "node.conf"
        (root / "etc" / "orchestrator" / "services").mkdir(parents=True)
        text = "[node]\nname = n1\n[cluster]\nname = alpha\n"
        if collector_url:
            text += f"[collector]\nurl = {collector_url}\ntoken = {TOKENS['alpha']}\n"
        conf.write_text(text)
        (root / "etc" / "orchestrator" / "services" / "web.conf").write_text(
            "[task#ok]\ncommand = echo hello\n\n[task#bad]\ncommand = /bin/sh -c 'exit 3'\n")
        self.queue = root / "var" / "lib" / "orchestrator" / "collector-queue"

    def svcmgr(self, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
        env = {k: v for k, v in collector_env().items() if not k.startswith("ORCHESTRATOR_")}
        env.update(ORCHESTRATOR_ROOT=str(self.root), ORCHESTRATOR_LOG_FORMAT="json")
        started = time.monotonic()
        out = subprocess.run([str(SVCMGR), *args], env=env, capture_output=True, text=True,
                             timeout=60)
        return out, time.monotonic() - started

    def runs(self) -> list[dict]:
        out, _ = self.svcmgr("-s", "web", "print", "runs", "--format", "json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def queued(self) -> list[str]:
        return sorted(p.name for p in self.queue.glob("*.json")) if self.queue.exists() else []


def test_manual_run_records_reach_the_collector(collector: CollectorProcess,
                                                tmp_path: Path) -> None:
    node = NodeRoot(tmp_path / "root", collector.url)
    out, _ = node.svcmgr("-s", "web", "run", "--rid", "task#ok")
    assert out.returncode == 0, out.stderr
    out, _ = node.svcmgr("-s", "web", "run", "--rid", "task#bad")
    assert out.returncode == 1, out.stderr
    local = {r["run_id"]: r for r in node.runs()}
    pushed = {r["run_id"]: r for r in get(collector, "/api/v1/runs?service=web")}
    assert set(pushed) == set(local) and len(local) == 2
    for run_id, record in local.items():
        got = pushed[run_id]
        assert (got["cluster"], got["node"], got["origin"]) == ("alpha", "n1", "manual")
        assert {k: got[k] for k in record} == record  # the whole record, as print runs shows
    assert sorted((r["rid"], r["status"], r["exit_code"]) for r in pushed.values()) == [
        ("task#bad", "failed", 3), ("task#ok", "ok", 0)]
    assert node.queued() == []


def test_collector_down_queues_the_records_and_the_run_does_not_wait(
        collector: CollectorProcess, tmp_path: Path) -> None:
    node = NodeRoot(tmp_path / "root", collector.url)
    collector.kill()
    out, elapsed = node.svcmgr("-s", "web", "run", "--rid", "task#ok")
    assert out.returncode == 0, out.stderr
    assert elapsed < CLI_PUSH_BUDGET, "a refused connection must not wait"
    assert "collector push delayed" in out.stderr  # said once, on stderr
    assert len(node.queued()) == 1
    first = node.runs()[0]["run_id"]

    collector.start()  # same port, same database
    out, _ = node.svcmgr("-s", "web", "run", "--rid", "task#ok")
    assert out.returncode == 0 and "collector push delayed" not in out.stderr, out.stderr
    assert node.queued() == []
    ledger = get(collector, "/api/v1/pushes?node=n1")
    assert [p["kind"] for p in ledger] == ["runs", "runs"]
    assert ledger[0]["seq"] < ledger[1]["seq"]  # the outage's push first
    assert sorted(r["run_id"] for r in get(collector, "/api/v1/runs")) == \
        sorted(r["run_id"] for r in node.runs())
    assert first in {r["run_id"] for r in get(collector, "/api/v1/runs")}


def test_a_collector_that_never_answers_costs_the_run_at_most_the_budget(tmp_path: Path) -> None:
    """A socket that accepts connections (kernel backlog) but never answers: the worst case."""
    base = NodeRoot(tmp_path / "plain", None)
    out, baseline = base.svcmgr("-s", "web", "run", "--rid", "task#ok")
    assert out.returncode == 0, out.stderr
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen(8)
        node = NodeRoot(tmp_path / "root", f"http://127.0.0.1:{mute.getsockname()[1]}")
        out, elapsed = node.svcmgr("-s", "web", "run", "--rid", "task#ok")
    assert out.returncode == 0, out.stderr
    assert "collector push delayed" in out.stderr and "timed out" in out.stderr, out.stderr
    # waited for the collector (the budget), and no longer: the client timeout alone is 5 s
    assert CLI_PUSH_BUDGET * 0.5 < elapsed - baseline < CLI_PUSH_BUDGET + 1.5, (elapsed, baseline)
    assert len(node.queued()) == 1
    body = json.loads((node.queue / node.queued()[0]).read_text())
    assert body["kind"] == "runs" and body["items"][0]["run_id"] == node.runs()[0]["run_id"]
