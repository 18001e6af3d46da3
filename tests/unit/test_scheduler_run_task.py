"""A scheduled run with hooks: every command it starts (pre_run, command, post_run) is
tracked for a relocation or fence while it runs, and none is left tracked after."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.config.node import NodeConfig
from orchestrator.config.service import parse_service
from orchestrator.daemon.scheduler import Entry, Scheduler
from orchestrator.jobs import Job
from orchestrator.paths import NodePaths
from orchestrator.runs import FileRunStore
from orchestrator.schedule import parse
from orchestrator.service import Service

CONFIG = """
[task#0]
pre_run = /bin/true
command = /bin/true
post_run = /bin/true
"""


class Runtime:
    def __init__(self, service: Service) -> None:
        self.service, self.started = service, True


class Agent:
    def __init__(self, service: Service, tmp_path: Path) -> None:
        self.me, self.clustered, self.coord, self.keeper = "n1", False, None, None
        self.node = service.node
        self.stop_event = threading.Event()
        self.runtimes = {"svc": Runtime(service)}
        self.store = FileRunStore(tmp_path / "runs")

    def run_store(self, svc: str) -> FileRunStore:
        return self.store

    def coord_connected(self) -> bool:
        return False


def test_every_command_of_a_run_is_untracked_when_it_ends(tmp_path):
    node = NodeConfig("n1", NodePaths(tmp_path), {})
    svc = Service(parse_service(CONFIG, "svc.conf", "svc", "n1"), node)
    agent = Agent(svc, tmp_path)
    sched = Scheduler(agent)  # type: ignore[arg-type]
    job = Job("run", "task#0", "task#0.schedule", "@1h")
    entry = Entry("svc", job, parse("@1h", tz="UTC"), False, "once", None)
    seen = []
    sched.may_run = lambda e: (seen.append(len(e.running)), True)[1]  # type: ignore[method-assign]
    sched.execute(entry, datetime.now(UTC), 0)  # the run kind's runner, as a pooled run does
    assert len(seen) == 3, "each of pre_run, command and post_run was tracked"
    assert entry.running == {}, f"left tracked: {entry.running}"
    assert [r.status for r in agent.store.records(["task#0"])] == ["ok"]
