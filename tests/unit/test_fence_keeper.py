"""The fence keeper, in this process, against real sockets, processes and files: what it
stops when an agent dies, goes quiet or is stuck, what it records, and what it refuses.

No ZooKeeper here: the keeper holds no session. The "agents" are raw socket clients (and
``sleep`` processes standing in for the agent's pid, so that killing a stuck one is seen).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.config.node import load_node_config
from orchestrator.devtools.waiting import wait_until
from orchestrator.fence import wire
from orchestrator.fence.keeper import Keeper
from orchestrator.fence.link import KeeperLink
from orchestrator.paths import NodePaths
from orchestrator.runs import RunRecord, RunStatus, new_run_id


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    return wait_until(predicate, timeout, 0.02, what)


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ORCHESTRATOR_ZK", raising=False)
    monkeypatch.delenv("ORCHESTRATOR_NODE", raising=False)
    conf = tmp_path / "etc" / "orchestrator" / "node.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[node]\nname = n1\n")
    return load_node_config(NodePaths(tmp_path))


@pytest.fixture
def keeper(node):
    """A keeper serving in a thread, listening where agents of ``node`` look for it."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(wire.address(node.paths.root))
    listener.listen(4)
    k = Keeper(node)
    thread = threading.Thread(target=k.serve, args=(listener,), daemon=True)
    thread.start()
    yield k
    k.stopping = True
    thread.join(5)
    listener.close()


class RawAgent:
    """A client speaking the keeper's protocol by hand."""

    def __init__(self, node, pid: int):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(wire.address(node.paths.root))
        self.reader = wire.LineReader()
        self.hello = self.send(op="hello", pid=pid, node="n1", clustered=True, task_grace=0.3)

    def send(self, **message):
        self.sock.sendall(wire.encode(message))
        while True:
            replies = self.reader.feed(self.sock.recv(65536))
            if replies:
                return replies[0]


def service_config(tmp_path: Path) -> str:
    return (f"[DEFAULT]\nnodes = n1\n\n[app#0]\nstart = touch {tmp_path}/up\n"
            f"stop = sh -c 'rm -f {tmp_path}/up; date +%s.%N >> {tmp_path}/stopped'\n")


def running_record(run_id: str) -> dict:
    return RunRecord(run_id, "svc1", "task#0", "n1", "scheduler", RunStatus.RUNNING,
                     started_at=datetime.now(UTC)).to_dict()


def sleeper() -> subprocess.Popen:
    return subprocess.Popen(["sleep", "60"], start_new_session=True)


def test_an_agent_that_goes_away_without_goodbye_is_fenced(node, keeper, tmp_path):
    link = KeeperLink(node.paths.root, "n1")
    link.connect()
    assert link.keeper_pid == os.getpid()  # ours, in a thread: none was spawned
    assert link.guard("svc1", service_config(tmp_path)) is None
    link.close()  # the agent died: no bye
    reports_file = node.paths.var / "fence" / "reports.jsonl"
    wait_for(reports_file.exists, what="the fence report")
    assert (tmp_path / "stopped").exists()
    reports = [json.loads(x) for x in reports_file.read_text().splitlines()]
    assert reports[-1]["services"] == {"svc1": 0}
    assert "without a goodbye" in reports[-1]["why"]
    # the next agent is told what was fenced while nobody was there
    again = KeeperLink(node.paths.root, "n1")
    told = []
    again.on_fenced = told.append
    again.connect()
    hello = again.request({"op": "status"})
    assert hello["guarded"] == []
    again.bye()


def test_a_goodbye_disarms_and_the_keeper_leaves(node, keeper, tmp_path):
    link = KeeperLink(node.paths.root, "n1")
    assert link.guard("svc1", service_config(tmp_path)) is None
    link.unguard("svc1")
    link.bye()
    wait_for(lambda: keeper.stopping, what="the keeper leaving")
    assert not (tmp_path / "stopped").exists()
    assert link.request({"op": "status"}) is None  # no keeper is started after a goodbye


def test_a_stuck_agent_is_fenced_its_task_killed_and_recorded_and_the_agent_killed(
        node, keeper, tmp_path):
    fake_agent, task = sleeper(), sleeper()
    try:
        agent = RawAgent(node, fake_agent.pid)
        assert agent.send(op="guard", svc="svc1", config=service_config(tmp_path))["ok"]
        run_id = new_run_id()
        agent.send(op="task", run_id=run_id, svc="svc1", record=running_record(run_id))
        agent.send(op="task_pid", run_id=run_id, pid=task.pid, token=None)
        now = time.monotonic()
        # the loop went quiet while ZooKeeper kept answering (then the renewals stop too)
        agent.send(op="renew", fence_at=now + 5, loop_fence_at=now + 0.1)
        assert task.wait(10) == -signal.SIGTERM
        wait_for(lambda: (tmp_path / "stopped").exists(), what="the service stopped")
        assert fake_agent.wait(10) == -signal.SIGKILL  # it ran: its session must close
        base = node.paths.service_var("svc1") / "runs"
        record = json.loads((base / "task#0" / f"{run_id}.json").read_text())
        assert record["status"] == "interrupted"
        assert record["reason"] == "agent unresponsive: fenced"
        queued = [json.loads(x) for x in (base / "pending-records.jsonl").read_text().splitlines()]
        assert [q["run_id"] for q in queued] == [run_id]  # for ZooKeeper, by the next agent
        # the agent's own late word does not replace the keeper's
        from orchestrator.runs.store import FileRunStore

        late = RunRecord.from_dict(record).finished(RunStatus.FAILED, exit_code=143)
        assert FileRunStore(base).save(late) is False
        assert json.loads((base / "task#0" / f"{run_id}.json").read_text())["status"] == \
            "interrupted"
    finally:
        for proc in (fake_agent, task):
            proc.kill()
            proc.wait()


def test_a_stopped_agent_is_fenced_but_left_alive_and_told_when_continued(
        node, keeper, tmp_path):
    fake_agent = sleeper()
    try:
        agent = RawAgent(node, fake_agent.pid)
        agent.send(op="guard", svc="svc1", config=service_config(tmp_path))
        os.kill(fake_agent.pid, signal.SIGSTOP)
        now = time.monotonic()
        agent.send(op="renew", fence_at=now + 5, loop_fence_at=now + 0.1)
        wait_for(lambda: (tmp_path / "stopped").exists(), what="the service stopped")
        time.sleep(0.3)
        assert fake_agent.poll() is None, "a stopped agent is left to be continued"
        reply = agent.send(op="renew", fence_at=time.monotonic() + 5,
                           loop_fence_at=time.monotonic() + 1)
        assert [r["services"] for r in reply["fenced"]] == [{"svc1": 0}]
        assert agent.send(op="renew", fence_at=time.monotonic() + 5,
                          loop_fence_at=time.monotonic() + 1).get("fenced") is None  # told once
    finally:
        os.kill(fake_agent.pid, signal.SIGCONT)
        fake_agent.kill()
        fake_agent.wait()


def test_a_live_agent_that_lost_zookeeper_is_fenced_but_not_killed(node, keeper, tmp_path):
    """Also a loop blocked in a ZooKeeper call during a partition: its ZooKeeper clock is
    frozen as well, so it is not taken for a stuck loop."""
    fake_agent = sleeper()
    try:
        agent = RawAgent(node, fake_agent.pid)
        agent.send(op="guard", svc="svc1", config=service_config(tmp_path))
        fence_at = time.monotonic() + 0.3  # frozen: ZooKeeper stopped answering
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # but the loop goes on renewing
            agent.send(op="renew", fence_at=fence_at, loop_fence_at=time.monotonic() + 1.5)
            time.sleep(0.1)
        reports_file = node.paths.var / "fence" / "reports.jsonl"
        wait_for(reports_file.exists, what="the fence report")
        assert (tmp_path / "stopped").exists()
        assert fake_agent.poll() is None
        report = json.loads(reports_file.read_text())
        assert report["reason"].startswith("fenced: no answer from ZooKeeper")
    finally:
        fake_agent.kill()
        fake_agent.wait()


def test_a_task_whose_pid_was_never_told_is_found_by_its_run_id(node, keeper, tmp_path):
    run_id = new_run_id()
    task = subprocess.Popen(["sleep", "60"], start_new_session=True,
                            env={**os.environ, "ORCHESTRATOR_RUN_ID": run_id})
    try:
        agent = RawAgent(node, os.getpid())
        agent.send(op="task", run_id=run_id, svc="svc1", record=running_record(run_id))
        agent.sock.close()  # died between starting the command and naming its pid
        assert task.wait(10) == -signal.SIGTERM
    finally:
        task.kill()
        task.wait()


def test_required_watchdog_missing_refuses_to_guard(node, tmp_path):
    from orchestrator.fence.watchdog import Watchdog

    k = Keeper(node, Watchdog("required", str(tmp_path / "no-such-watchdog")))
    agent_sock, keeper_sock = socket.socketpair()
    from orchestrator.fence.keeper import Agent

    reply = k.handle(Agent(keeper_sock), {"op": "guard", "svc": "svc1", "config": ""})
    assert reply["ok"] is False and "watchdog is required" in reply["error"]
    agent_sock.close()
    keeper_sock.close()


def test_the_keeper_pets_the_watchdog_while_it_guards_and_disarms_after(node, tmp_path):
    """Against a FIFO, never a real watchdog device (it would reset the machine)."""
    from orchestrator.fence.watchdog import Watchdog

    fifo = tmp_path / "watchdog"
    os.mkfifo(fifo)
    got = bytearray()

    def read() -> None:
        with open(fifo, "rb") as fh:  # opening blocks until the keeper arms the watchdog
            while chunk := fh.read(1):
                got.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.1)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(wire.address(node.paths.root))
    listener.listen(4)
    k = Keeper(node, Watchdog("automatic", str(fifo)))
    thread = threading.Thread(target=k.serve, args=(listener,), daemon=True)
    thread.start()
    try:
        link = KeeperLink(node.paths.root, "n1")
        assert link.guard("svc1", service_config(tmp_path)) is None
        assert link.status()["watchdog"]["mode"] == "automatic"
        wait_for(lambda: got.count(b"1") >= 3, what="keepalives")
        link.unguard("svc1")
        reader.join(5)
        assert got.endswith(b"V"), bytes(got)  # the magic close: nothing guarded any more
        link.bye()
    finally:
        k.stopping = True
        thread.join(5)
        listener.close()


def test_a_run_that_ended_before_the_fence_is_neither_rerecorded_nor_signalled(
        node, keeper, tmp_path):
    from orchestrator.runs.store import FileRunStore

    agent = RawAgent(node, os.getpid())
    run_id = new_run_id()
    agent.send(op="task", run_id=run_id, svc="svc1", record=running_record(run_id))
    base = node.paths.service_var("svc1") / "runs"
    done = RunRecord.from_dict(running_record(run_id)).finished(RunStatus.OK, exit_code=0)
    assert FileRunStore(base).save(done)  # its runner recorded the end; task_done not sent
    stranger = sleeper()  # the pid the agent named, as if reused by another process
    try:
        agent.send(op="task_pid", run_id=run_id, pid=stranger.pid, token=None, started=1.0)
        agent.sock.close()
        reports_file = node.paths.var / "fence" / "reports.jsonl"
        wait_for(reports_file.exists, what="the fence report")
        assert json.loads(reports_file.read_text())["tasks"] == []
        assert stranger.poll() is None, "a process that is not the run's was signalled"
        assert FileRunStore(base).recorded("task#0", run_id).status == RunStatus.OK
    finally:
        stranger.kill()
        stranger.wait()


def test_asking_to_fence_also_tells_what_the_keeper_fenced_on_its_own(node, keeper, tmp_path):
    told: list = []
    link = KeeperLink(node.paths.root, "n1", on_fenced=told.extend)
    assert link.guard("svc1", service_config(tmp_path)) is None
    now = time.monotonic()
    link.request({"op": "renew", "fence_at": now + 0.1, "loop_fence_at": now + 5})
    wait_for(lambda: (node.paths.var / "fence" / "reports.jsonl").exists(), what="a fence")
    report = link.fence("fenced: ZooKeeper connection suspended")
    assert report["services"] == {}  # nothing left to stop: it was stopped once
    assert [r["services"] for r in told] == [{"svc1": 0}]
    assert (tmp_path / "stopped").read_text().count("\n") == 1
    link.bye()
