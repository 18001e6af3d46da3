"""The fence keeper ends a container task whose runner died: the run's engine client is
killed with its process group, and the container, which lives under podman's conmon and
would survive that, is removed by the name the run's record carries.

The runner is a real ``svcmgr run`` (SIGKILLed, as an agent dies); the keeper is a real
one, in this process, that an agent speaking its protocol by hand has told about the run.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest
from container_support import containers, running
from e2e_support import Node

from orchestrator.config.node import load_node_config
from orchestrator.devtools.waiting import wait_until
from orchestrator.fence import wire
from orchestrator.fence.keeper import Keeper
from orchestrator.paths import NodePaths

pytestmark = pytest.mark.usefixtures("testbox")


def wait(predicate, timeout: float = 20.0, what: str = "condition"):
    return wait_until(predicate, timeout, 0.05, what)


class HandAgent:
    """An agent's side of the keeper's protocol (the keeper fences when it goes away)."""

    def __init__(self, root: Path, pid: int):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(wire.address(root))
        self.reader = wire.LineReader()
        self.send(op="hello", pid=pid, node="n1", clustered=False, task_grace=0.5)

    def send(self, **message):
        self.sock.sendall(wire.encode(message))
        while True:
            replies = self.reader.feed(self.sock.recv(65536))
            if replies:
                return replies[0]


def test_the_keeper_removes_the_container_of_a_task_whose_runner_died(
        node: Node, container_scope: str):
    svc = container_scope
    (node.root / "etc" / "orchestrator" / "node.conf").write_text("[node]\nname = n1\n")
    node.write(svc, "[task#0]\ntype = podman\nimage = localhost/testbox:latest\n"
                    "command = /bin/sleep 300\n")
    runner = node.popen("-s", svc, "run", "--rid", "task#0")
    keeper = listener = stand_in = None
    try:
        name = wait(lambda: [n for n in containers(f"{svc}.task.0.") if running(n)],
                    what="the task's container running")[0]
        [path] = (node.svc_var(svc) / "runs" / "task#0").glob("*.json")
        record = json.loads(path.read_text())
        assert record["status"] == "running" and record["extra"]["container"]["name"] == name
        client = next(p for p in psutil.process_iter(["cmdline"])
                      if name in (p.info["cmdline"] or []))
        runner.send_signal(signal.SIGKILL)  # the runner dies: nothing of ours ends the run
        runner.wait(10)
        time.sleep(0.5)
        assert running(name) and client.is_running()

        cfg = load_node_config(NodePaths(node.root))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(wire.address(node.root))
        listener.listen(4)
        keeper = Keeper(cfg)
        threading.Thread(target=keeper.serve, args=(listener,), daemon=True).start()
        stand_in = subprocess.Popen(["sleep", "60"], start_new_session=True)  # the agent's pid
        agent = HandAgent(node.root, stand_in.pid)
        agent.send(op="task", run_id=record["run_id"], svc=svc, record=record)
        agent.send(op="task_pid", run_id=record["run_id"], pid=client.pid, token=None,
                   started=client.create_time())
        agent.sock.close()  # the agent goes away without a goodbye: fenced

        wait(lambda: not containers(name), 8, what="the container removed by the keeper")
        wait(lambda: not client.is_running() or client.status() == psutil.STATUS_ZOMBIE,
             what="the engine client killed")
        final = json.loads(path.read_text())
        assert (final["status"], final["reason"]) == ("interrupted",
                                                      "agent unresponsive: fenced")
        reports_file = node.var / "fence" / "reports.jsonl"
        wait(reports_file.exists, what="the fence report")
        reports = reports_file.read_text().splitlines()
        assert json.loads(reports[-1])["tasks"] == [record["run_id"]]
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        if stand_in is not None:
            stand_in.kill()
            stand_in.wait()
        if keeper is not None:
            keeper.stopping = True
        if listener is not None:
            listener.close()  # an abstract socket: nothing left on disk
