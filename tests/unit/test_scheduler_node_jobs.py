"""The node's own jobs are run by the one scheduler with the service jobs' due rule: slots
missed while the daemon was down follow node.conf [node] misfire, are recorded and logged as
missed, and the last run is kept in the node's scheduler.json (no lease, even clustered)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from orchestrator.config.node import NodeConfig, load_node_config
from orchestrator.coordination import MemoryCluster, MemoryStore
from orchestrator.daemon.scheduler import Scheduler
from orchestrator.paths import NodePaths

T0 = datetime(2026, 3, 1, 10, 0, 0, 250000, tzinfo=UTC)


class Agent:
    """A clustered node holding no lease at all: node jobs need none."""

    def __init__(self, node: NodeConfig) -> None:
        self.node, self.me = node, node.nodename
        self.coord = MemoryStore(self.me, MemoryCluster())
        self.clustered, self.keeper = True, None
        self.stop_event = threading.Event()
        self.runtimes: dict = {}

    def coord_connected(self) -> bool:
        return True

    def lease_of(self, svc: str) -> None:
        return None

    def run_store(self, svc: str) -> None:
        raise AssertionError("node jobs keep their records in the node's state")

    def collector(self) -> None:
        return None

    def flush_records(self) -> None:
        pass


def setup(tmp_path: Path, extra: str, last: datetime | None) -> tuple[Scheduler, Path, list]:
    conf = tmp_path / "etc" / "orchestrator" / "node.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(f"[node]\nname = n1\npushasset_schedule = @1m\ncomp_schedule = @0\n{extra}")
    node = load_node_config(NodePaths(tmp_path))
    state = node.paths.var / "node" / "scheduler.json"
    if last is not None:
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"last": {"pushasset": last.isoformat()}}))
    sched = Scheduler(Agent(node))  # type: ignore[arg-type]
    sched.load_node(node)
    ran: list = []

    def launch(entry, slot, epoch, run_at):  # synchronous: the runner itself, no pool
        ran.append(slot)
        sched.execute(entry, slot, epoch, run_at)

    sched.launch = launch  # type: ignore[method-assign]
    return sched, state, ran


def test_missed_slots_of_a_node_job_run_once_with_misfire_once_and_say_so(tmp_path):
    down_since = T0 - timedelta(minutes=10)  # the daemon was down for ten minutes
    sched, state, ran = setup(tmp_path, "", down_since)
    assert [k for k in sched.entries] == [("", "pushasset")]  # comp_schedule @0: not loaded
    with structlog.testing.capture_logs() as logs:
        sched.tick(T0)
        sched.tick(T0 + timedelta(milliseconds=500))
    assert ran == [T0.replace(microsecond=0)], "once, for the latest slot"
    missed = [e for e in logs if e.get("status") == "missed"]
    assert len(missed) == 1 and missed[0]["log_level"] == "warning"
    assert missed[0]["event"].startswith("node n1: pushasset: missed 9 slots (")
    assert "while the node agent was down or busy" in missed[0]["event"]
    assert missed[0]["event"].endswith("(misfire=once)")
    assert any(e["event"].startswith("node n1: pushasset: skipped: no collector configured")
               for e in logs)
    doc = json.loads(state.read_text())
    slot = T0.replace(microsecond=0)
    assert doc["last"]["pushasset"] == slot.isoformat()  # the slot it ran for (on time)
    assert doc["result"]["pushasset"]["status"] == "skipped"

    # a restarted daemon goes on from the kept last run: nothing until the next slot
    sched2, _, ran2 = setup(tmp_path, "", None)
    sched2.tick(T0 + timedelta(seconds=30))
    assert ran2 == []
    sched2.tick(T0 + timedelta(seconds=60))
    assert ran2 == [slot + timedelta(seconds=60)]


def test_a_node_job_beyond_grace_is_skipped_with_misfire_skip_and_recorded_missed(tmp_path):
    now = T0 + timedelta(seconds=45)  # the latest slot (10:00:00) is 45 s late
    sched, state, ran = setup(tmp_path, "misfire = skip\nmisfire_grace = 30s\n",
                              T0 - timedelta(minutes=10))
    with structlog.testing.capture_logs() as logs:
        sched.tick(now)
    assert ran == []
    doc = json.loads(state.read_text())
    assert doc["result"]["pushasset"]["status"] == "missed"
    assert "skipping (misfire=skip)" in doc["result"]["pushasset"]["reason"]
    assert doc["last"]["pushasset"] == now.isoformat()  # the slot is spent: no run on restart
    assert [e["event"] for e in logs if e.get("status") == "missed"] == [
        f"node n1: pushasset: {doc['result']['pushasset']['reason']}"]
