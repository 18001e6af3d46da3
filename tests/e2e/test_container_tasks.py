"""Container tasks with real podman through ``svcmgr run``: the container's exit code is the
run's, its output the run's log; a timeout, a Ctrl-C and a SIGKILLed engine client leave no
container behind; run_requires waits on a container resource whose network the task
joins; ``type = docker`` through podman-docker's ``docker``. Containers are named after the
test's unique service and removed when it ends (container_support.container_scope)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import psutil
import pytest
from container_support import PODMAN_DOCKER_PATH, containers, running
from e2e_support import Node

from orchestrator.devtools.waiting import wait_until

pytestmark = pytest.mark.usefixtures("testbox")
IMAGE = "localhost/testbox:latest"


def task(rid: str, command: str, kind: str = "podman", **keywords: str) -> str:
    lines = [f"[{rid}]", f"type = {kind}", f"image = {IMAGE}", f"command = {command}"]
    lines += [f"{k} = {v}" for k, v in keywords.items()]
    return "\n".join(lines) + "\n\n"


def wait(predicate, timeout: float = 20.0, what: str = "condition"):
    return wait_until(predicate, timeout, 0.05, what)


def only_run(node: Node, svc: str, rid: str) -> dict:
    [record] = [r for r in node.runs(svc) if r["rid"] == rid]
    return record


def client_of(name_prefix: str) -> psutil.Process:
    """The engine client running the container whose name starts with ``name_prefix``."""
    for proc in psutil.process_iter(["cmdline"]):
        argv = proc.info["cmdline"] or []
        if "run" in argv and "--name" in argv and \
                argv[argv.index("--name") + 1].startswith(name_prefix):
            return proc
    raise AssertionError(f"no engine client for {name_prefix}")


def test_exit_codes_and_output_in_the_run_log(node: Node, container_scope: str):
    svc = container_scope
    node.write(svc, task("task#ok", "/bin/sh -c 'echo hello from $OPENSVC_RID; id -u; pwd; "
                         "echo $GREETING'", user="nobody", cwd="/tmp",
                         environment="GREETING='two words'")
               + task("task#three", "/bin/sh -c 'echo about to fail >&2; exit 3'"))
    res = node.svcmgr("-s", svc, "run", "--rid", "task#ok")
    assert res.rc == 0, res.err
    assert res.out.splitlines() == ["hello from task#ok", "65534", "/tmp", "two words"]
    ok = only_run(node, svc, "task#ok")
    assert (ok["status"], ok["exit_code"]) == ("ok", 0)
    assert ok["extra"]["container"] == {"engine": "/usr/bin/podman",
                                        "name": f"{svc}.task.ok.{ok['run_id']}"}
    log = Path(ok["log_path"]).read_text()
    assert "hello from task#ok\n65534\n/tmp\ntwo words\n" in log
    assert f"[orchestrator] container {svc}.task.ok.{ok['run_id']}: /usr/bin/podman run" in log

    res = node.svcmgr("-s", svc, "run", "--rid", "task#three")
    assert res.rc == 1
    assert "about to fail" in res.out  # the container's stderr, merged like a host task's
    three = only_run(node, svc, "task#three")
    assert (three["status"], three["exit_code"], three["reason"]) == \
        ("failed", 3, "exited with code 3")
    assert "about to fail" in Path(three["log_path"]).read_text()
    table = node.svcmgr("-s", svc, "print", "runs", "--rid", "task#three").out
    assert three["run_id"] in table and " 3 " in table and "exited with code 3" in table
    assert containers(f"{svc}.") == []


def test_a_timeout_kills_the_container(node: Node, container_scope: str):
    svc = container_scope
    # sleep as PID 1 ignores SIGTERM: the engine's stop SIGKILLs it after kill_grace
    node.write(svc, task("task#slow", "/bin/sleep 300", timeout="2", kill_grace="1")
               + task("task#init", "/bin/sleep 300", timeout="1", init="true"))
    began = time.monotonic()
    res = node.svcmgr("-s", svc, "run", "--rid", "task#slow")
    took = time.monotonic() - began
    assert res.rc == 1
    assert 2.5 < took < 10, took
    slow = only_run(node, svc, "task#slow")
    assert (slow["status"], slow["exit_code"], slow["reason"]) == \
        ("timeout", 137, "timed out after 2s, killed")
    assert "terminating (timeout after 2s): podman stop -t 1" in Path(slow["log_path"]).read_text()
    assert containers(f"{svc}.") == []
    # with an init, SIGTERM reaches sleep: it ends at once, 143
    res = node.svcmgr("-s", svc, "run", "--rid", "task#init")
    init = only_run(node, svc, "task#init")
    assert (init["status"], init["exit_code"]) == ("timeout", 143)
    assert containers(f"{svc}.") == []


def test_a_sigkilled_engine_client_leaves_no_container(node: Node, container_scope: str):
    svc = container_scope
    node.write(svc, task("task#0", "/bin/sleep 300"))
    proc = node.popen("-s", svc, "run", "--rid", "task#0")
    try:
        name = wait(lambda: [n for n in containers(f"{svc}.task.0.") if running(n)],
                    what="the task's container running")[0]
        client_of(f"{svc}.task.0.").kill()  # as the fence keeper's group kill would
        assert proc.wait(30) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    record = only_run(node, svc, "task#0")
    assert (record["status"], record["exit_code"]) == ("failed", 137)
    assert containers(name) == []


def test_ctrl_c_stops_the_container_and_the_run_is_interrupted(node: Node,
                                                              container_scope: str):
    svc = container_scope
    node.write(svc, task("task#0", "/bin/sleep 300", kill_grace="1"))
    proc = node.popen("-s", svc, "run", "--rid", "task#0")
    try:
        wait(lambda: [n for n in containers(f"{svc}.task.0.") if running(n)],
             what="the task's container running")
        proc.send_signal(signal.SIGINT)
        # the run's own bounds: the engine's stop (-t 1, given 31 s), then the client's end
        # (30 s); once, in a fresh-clone run, 30 s were not enough
        proc.wait(75)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            logs = sorted((node.svc_var(svc) / "runs" / "task#0").glob("*.log"))
            print("run log:", logs[-1].read_text() if logs else "(none)")
    record = only_run(node, svc, "task#0")
    assert record["status"] == "interrupted", record
    assert containers(f"{svc}.") == []


def test_run_requires_a_container_whose_network_the_task_joins(node: Node,
                                                              container_scope: str):
    svc = container_scope
    node.write(svc, f"""
        [container#db]
        type = podman
        image = {IMAGE}
        command = /bin/sh -c 'mkdir -p /www && echo db-ready > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www'
        init = true
        rm = true

        [task#client]
        type = podman
        image = {IMAGE}
        netns = container#db
        run_requires = container#db(up)
        command = /bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:8080/ && exit 0; sleep 0.2; done; exit 1'
        """)
    res = node.svcmgr("-s", svc, "run", "--rid", "task#client")
    assert res.rc == 1
    refused = only_run(node, svc, "task#client")
    assert refused["reason"] == "requirements not met: container#db is down, wanted up"
    assert node.svcmgr("-s", svc, "start").rc == 0
    res = node.svcmgr("-s", svc, "run", "--rid", "task#client")
    assert res.rc == 0, res.err
    assert res.out.strip() == "db-ready"
    assert node.svcmgr("-s", svc, "stop").rc == 0
    assert containers(f"{svc}.") == []


def test_a_docker_task_through_podman_docker(node: Node, container_scope: str):
    """``docker`` here is podman-docker's (podman under Docker's name): the docker code path
    (no --rm, removed after the run) against podman's CLI."""
    svc = container_scope
    node.write(svc, task("task#0", "/bin/sh -c 'echo from docker; exit 3'", kind="docker")
               + task("task#slow", "/bin/sleep 300", kind="docker", timeout="1",
                      kill_grace="1"))
    env = {"PATH": PODMAN_DOCKER_PATH}
    res = node.svcmgr("-s", svc, "run", "--rid", "task#0", env=env)
    assert res.rc == 1 and "from docker" in res.out
    record = only_run(node, svc, "task#0")
    assert (record["exit_code"], record["extra"]["container"]["engine"]) == \
        (3, "/usr/bin/docker")
    res = node.svcmgr("-s", svc, "run", "--rid", "task#slow", env=env)
    assert only_run(node, svc, "task#slow")["status"] == "timeout"
    assert containers(f"{svc}.") == []


def test_oci_passes_over_a_docker_client_whose_engine_does_not_answer(
        node: Node, container_scope: str):
    svc = container_scope
    node.write(svc, task("task#0", "/bin/true", kind="oci"))
    res = node.svcmgr("-s", svc, "run", "--rid", "task#0",
                      env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert res.rc == 0, res.err
    assert only_run(node, svc, "task#0")["extra"]["container"]["engine"] == "/usr/bin/podman"


def test_a_missing_engine_fails_the_run_with_the_reason(node: Node, container_scope: str,
                                                         tmp_path):
    svc = container_scope
    node.write(svc, task("task#0", "/bin/true"))
    empty = tmp_path / "nobin"
    empty.mkdir()
    res = node.svcmgr("-s", svc, "run", "--rid", "task#0", env={"PATH": str(empty)})
    assert res.rc == 1
    record = only_run(node, svc, "task#0")
    reason = "no container engine: podman is not installed (no podman command in PATH)"
    assert (record["status"], record["exit_code"], record["reason"]) == ("failed", 127, reason)
    assert json.loads(json.dumps(record))["extra"]["container"]["engine"] is None


def test_a_scheduled_container_task_is_ended_with_the_daemon(node: Node, container_scope: str):
    """The agent's shutdown interrupts its running tasks: the container goes too."""
    import subprocess

    from e2e_support import BIN

    svc = container_scope
    node.write(svc, task("task#0", "/bin/sleep 300", schedule="@1s"))
    daemon = subprocess.Popen([str(BIN / "nodemgr"), "daemon", "run"], env=node.env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        name = wait(lambda: [n for n in containers(f"{svc}.task.0.") if running(n)], 30,
                    what="the scheduled run's container running")[0]
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert containers(f"{svc}.") == []
    run_id = name.removeprefix(f"{svc}.task.0.")
    [record] = [r for r in node.runs(svc) if r["run_id"] == run_id]
    assert record["status"] == "interrupted", record
    # the standalone agent waits for its workers' records before it leaves
    assert record["reason"] == "interrupted: the node agent is shutting down", record
