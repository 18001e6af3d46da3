"""A manual run's cluster-wide max_parallel slot lives as long as its command, not as long as
the ``svcmgr run`` that started it; the node's reaper frees it once both are gone.

Real ZooKeeper, real ``svcmgr`` processes of two nodes of one cluster (no daemon: the test
calls the reaper the way the node agent does).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemons import Cluster, _tool, wait_until

from orchestrator.coordination import Coordinator


def task_config(pidfile: Path) -> str:
    """n1's command writes its pid and sleeps; n2's returns at once (when not refused)."""
    return ("[task#0]\n"
            f"command = sh -c 'echo $$ > {pidfile}; exec sleep 30'\n"
            "command@n2 = /bin/true\n")


@pytest.fixture
def cluster(make_cluster: Callable[..., Cluster], tmp_path: Path) -> Cluster:
    cluster = make_cluster(names=("n1", "n2"))
    for node in cluster.nodes.values():
        node.conf_path("svc").parent.mkdir(parents=True, exist_ok=True)
        node.conf_path("svc").write_text(task_config(tmp_path / "cmd.pid"))
    return cluster


@pytest.fixture
def coords(cluster: Cluster) -> Iterator[dict[str, Coordinator]]:
    made = {name: Coordinator(cluster.zk, cluster.cluster, "s3cret", cluster.session_timeout,
                              name) for name in cluster.names}
    yield made
    for coord in made.values():
        coord.close()


def start_run(cluster: Cluster, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*_tool("svcmgr"), "-s", "svc", "run"], env=cluster.nodes[name].env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def command_pid(pidfile: Path) -> int:
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 15,
               what="the command to start")
    return int(pidfile.read_text())


def test_a_sigkilled_svcmgr_keeps_its_slot_while_its_command_runs(
        cluster: Cluster, coords: dict[str, Coordinator], tmp_path: Path) -> None:
    first = start_run(cluster, "n1")
    command = command_pid(tmp_path / "cmd.pid")
    try:
        first.kill()  # SIGKILL: svcmgr and its session go, its command (own session) goes on
        first.wait(timeout=10)
        time.sleep(3 * cluster.session_timeout)  # its ZooKeeper session has expired by now
        assert Path(f"/proc/{command}").exists()
        second = cluster.svc("n2", "svc", "run")
        assert second.returncode == 1, second.stdout + second.stderr
        assert "already running" in second.stderr
        from orchestrator.runs.slot_reaper import reap_run_slots

        assert reap_run_slots(coords["n1"], "n1") == []  # its command still runs
        assert reap_run_slots(coords["n2"], "n2") == []  # never another node's slots
    finally:
        os.kill(command, signal.SIGKILL)
    wait_until(lambda: not Path(f"/proc/{command}").exists(), 10, what="the command to end")
    freed = reap_run_slots(coords["n1"], "n1")
    assert len(freed) == 1 and "command pid" in freed[0], freed
    assert coords["n2"].running_runs("svc", "task#0") == []
    third = cluster.svc("n2", "svc", "run")
    assert third.returncode == 0, third.stdout + third.stderr


def test_a_run_that_ends_normally_leaves_no_slot(
        cluster: Cluster, coords: dict[str, Coordinator], tmp_path: Path) -> None:
    cluster.nodes["n1"].conf_path("svc").write_text("[task#0]\ncommand = /bin/true\n")
    done = cluster.svc("n1", "svc", "run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert coords["n2"].running_runs("svc", "task#0") == []
    assert coords["n1"].node_run_slots("n1") == []


def test_the_slot_names_the_command_and_goes_once_svcmgr_and_command_are_gone(
        cluster: Cluster, coords: dict[str, Coordinator], tmp_path: Path) -> None:
    """The slot names the command with its create time, so a reused pid would not keep it."""
    from orchestrator.runs.slot_reaper import reap_run_slots

    first = start_run(cluster, "n1")
    command = command_pid(tmp_path / "cmd.pid")
    slots = wait_until(lambda: [s for s in coords["n1"].node_run_slots("n1")
                                if s.doc and s.doc["extra"].get("command_pid")],
                       10, what="the slot to name the command")
    assert slots[0].doc["extra"]["command_started"]
    first.kill()
    first.wait(timeout=10)
    os.kill(command, signal.SIGKILL)
    wait_until(lambda: not Path(f"/proc/{command}").exists(), 10, what="the command to end")
    assert len(reap_run_slots(coords["n1"], "n1")) == 1
    assert coords["n1"].node_run_slots("n1") == []


def test_persistent_slots_survive_a_purge_and_count_against_ephemeral_ones(
        coords: dict[str, Coordinator]) -> None:
    """A purge of the service (delete, create again) deletes the paths a session ensured:
    a persistent slot is still taken, and slots of both kinds count in one max_parallel."""
    manual, daemon = coords["n1"], coords["n2"]
    manual.persist_run_slots()
    first = manual.take_run_slot("web", "task#0", 2, {"run_id": "m1", "node": "n1"})
    daemon.delete_service_config("web")  # purges /services/web
    daemon.put_service_config("web", "[DEFAULT]\n")
    assert first and manual.node_run_slots("n1")[0].doc is None  # its index entry is left
    assert manual.take_run_slot("web", "task#0", 2, {"run_id": "m2", "node": "n1"})
    assert daemon.take_run_slot("web", "task#0", 2, {"run_id": "d1", "node": "n2"})
    assert daemon.take_run_slot("web", "task#0", 2, {"run_id": "d2", "node": "n2"}) is None
    assert [s.doc["run_id"] for s in manual.node_run_slots("n1")] == ["m2"]
    assert daemon.node_run_slots("n2") == []  # ephemeral: not indexed


def test_the_reaper_never_raises_for_zookeeper(coords: dict[str, Coordinator]) -> None:
    """The agent calls it from its decision cycle: a lost connection is a log line, not a
    cycle cut short."""
    from orchestrator.runs.slot_reaper import reap_run_slots

    coords["n1"].close()
    assert reap_run_slots(coords["n1"], "n1") == []
