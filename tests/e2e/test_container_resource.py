"""Container resources with real podman, driven through ``svcmgr`` on a standalone node:
start runs the container, status comes from inspect, stop stops (and with rm removes) it;
network namespaces shared with the host or with another container; a missing engine and a
policy that must not pull. Every container is named after the test's unique service and
removed when the test ends (container_support.container_scope)."""

from __future__ import annotations

import os

import pytest
from container_support import containers, podman, running
from e2e_support import Node, recording_shim

pytestmark = pytest.mark.usefixtures("testbox")


def box(rid: str, command: str, **keywords: str) -> str:
    lines = [f"[{rid}]", "type = podman", "image = localhost/testbox:latest",
             f"command = {command}"]
    lines += [f"{k} = {v}" for k, v in keywords.items()]
    return "\n".join(lines) + "\n\n"


def resources(node: Node, svc: str) -> dict:
    return node.status(svc)["resources"]


def netns_of(name: str) -> str:
    proc = podman("exec", name, "readlink", "/proc/1/ns/net")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_start_status_stop_with_rm_and_again(node: Node, container_scope: str):
    svc = container_scope
    node.write(svc, box("container#0", "/bin/sleep 300", rm="true", init="true",
                        environment="GREETING=hello"))
    res = node.svcmgr("-s", svc, "start")
    assert res.rc == 0, res.err
    name = f"{svc}.container.0"
    assert running(name)
    assert resources(node, svc)["container#0"]["status"] == "up"
    assert node.status(svc)["avail"] == "up"
    env = podman("exec", name, "env").stdout
    assert "GREETING=hello" in env and "OPENSVC_RID=container#0" in env
    # a second start finds it running and leaves it be
    first_id = podman("inspect", "--format", "{{.Id}}", name).stdout
    res = node.svcmgr("-s", svc, "start")
    assert res.rc == 0 and "already running" in res.out
    assert podman("inspect", "--format", "{{.Id}}", name).stdout == first_id
    res = node.svcmgr("-s", svc, "stop")
    assert res.rc == 0, res.err
    assert containers(name) == []  # rm: removed
    status = resources(node, svc)["container#0"]
    assert status["status"] == "down" and status["reason"] == f"no container {name}"
    assert node.svcmgr("-s", svc, "stop").rc == 0  # stopping what is stopped succeeds
    log = (node.svc_var(svc) / "resources" / "container#0.log").read_text()
    assert "podman container stop -t 10" in log and "podman container rm -f" in log


def test_without_rm_stop_keeps_the_container_and_start_starts_it_again(
        node: Node, container_scope: str):
    svc = container_scope
    node.write(svc, box("container#0", "/bin/sleep 300", stop_timeout="1"))
    assert node.svcmgr("-s", svc, "start").rc == 0
    name = f"{svc}.container.0"
    first_id = podman("inspect", "--format", "{{.Id}}", name).stdout
    assert node.svcmgr("-s", svc, "stop").rc == 0  # sleep ignores SIGTERM as PID 1: -t 1
    assert containers(name) == [name] and not running(name)
    status = resources(node, svc)["container#0"]
    assert status["status"] == "down"
    assert status["reason"].startswith(f"container {name} is exited (exit code 137")
    assert node.svcmgr("-s", svc, "start").rc == 0
    assert running(name)
    assert podman("inspect", "--format", "{{.Id}}", name).stdout == first_id  # the same one


def test_netns_host_and_netns_of_another_container(node: Node, container_scope: str):
    svc = container_scope
    node.write(svc, box("container#0", "/bin/sleep 300", init="true", rm="true")
               + box("container#1", "/bin/sleep 300", init="true", rm="true",
                     netns="container#0")
               + box("container#2", "/bin/sleep 300", init="true", rm="true", netns="host")
               + box("container#3", "/bin/sleep 300", init="true", rm="true"))
    res = node.svcmgr("-s", svc, "start")
    assert res.rc == 0, res.err
    c0, c1, c2, c3 = (f"{svc}.container.{i}" for i in range(4))
    host_netns = os.readlink("/proc/self/ns/net")  # the namespace podman runs in
    assert netns_of(c1) == netns_of(c0) != host_netns
    assert netns_of(c2) == host_netns
    assert netns_of(c3) not in (host_netns, netns_of(c0))  # empty netns: a private one
    # none has a default-network interface: only lo (and the host's for netns=host)
    links = podman("exec", c0, "ip", "-o", "link").stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]
    # a service in c0 answers c1 on their shared loopback
    assert podman("exec", "-d", c0, "sh", "-c",
                  "mkdir -p /www && echo shared > /www/index.html && httpd -p 127.0.0.1:8080 "
                  "-h /www").returncode == 0
    got = podman("exec", c1, "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do "
                 "wget -q -O - http://127.0.0.1:8080/ && exit 0; sleep 0.2; done; exit 1")
    assert got.returncode == 0 and got.stdout.strip() == "shared", got.stderr
    assert node.svcmgr("-s", svc, "stop").rc == 0
    assert containers(f"{svc}.") == []


def test_a_missing_engine_fails_the_start_with_the_reason_and_status_says_so(
        node: Node, container_scope: str, tmp_path):
    svc = container_scope
    node.write(svc, box("container#0", "/bin/sleep 300"))
    empty = tmp_path / "nobin"
    empty.mkdir()
    env = {"PATH": str(empty)}
    res = node.svcmgr("-s", svc, "start", env=env)
    assert res.rc == 1
    reason = "no container engine: podman is not installed (no podman command in PATH)"
    assert reason in res.err
    status = node.svcmgr("-s", svc, "print", "status", "--format", "json", env=env).json()
    assert status["resources"]["container#0"]["status"] == "down"
    assert status["resources"]["container#0"]["reason"] == reason
    assert node.svcmgr("-s", svc, "stop", env=env).rc == 0  # nothing can run: stopped
    assert containers(f"{svc}.") == []


def test_pull_policy_once_uses_the_local_image_and_always_tries_the_registry(
        node: Node, container_scope: str):
    svc = container_scope
    node.write(svc, box("container#0", "/bin/sleep 300", rm="true", init="true",
                        image_pull_policy="once")
               + box("container#1", "/bin/sleep 300", rm="true", init="true",
                     image_pull_policy="always", pull_timeout="20s"))
    res = node.svcmgr("-s", svc, "start")
    assert res.rc == 1
    assert running(f"{svc}.container.0")
    log0 = (node.svc_var(svc) / "resources" / "container#0.log").read_text()
    assert "image pull" not in log0  # once, and the image is here: no registry asked
    log1 = (node.svc_var(svc) / "resources" / "container#1.log").read_text()
    assert "podman image pull localhost/testbox:latest" in log1
    assert "container#1: cannot pull image localhost/testbox:latest: " in res.err
    assert containers(f"{svc}.container.1") == []
    assert node.svcmgr("-s", svc, "stop").rc == 0


def test_a_container_that_exits_at_once_fails_the_start_with_its_last_words(
        node: Node, container_scope: str):
    svc = container_scope
    node.write(svc, box("container#0", "/bin/sh -c 'echo no config found; exit 7'", rm="true"))
    res = node.svcmgr("-s", svc, "start")
    assert res.rc == 1
    assert (f"container {svc}.container.0 is exited right after its start (exit code 7): "
            "no config found") in res.err
    assert node.svcmgr("-s", svc, "stop").rc == 0
    assert containers(f"{svc}.") == []


def test_an_init_container_runs_to_its_end_at_start(node: Node, container_scope: str,
                                                     tmp_path):
    svc = container_scope
    data = tmp_path / "data"
    node.write(svc, box("container#0", "/bin/sh -c 'echo initialized > /data/done'",
                        detach="false", volume_mounts=f"{data}:/data"))
    res = node.svcmgr("-s", svc, "start")
    assert res.rc == 0, res.err
    assert (data / "done").read_text() == "initialized\n"  # the mount source was created
    assert containers(f"{svc}.") == []  # detach=false: removed after its run
    assert resources(node, svc)["container#0"]["status"] == "n/a"
    node.write(svc, box("container#0", "/bin/sh -c 'exit 5'", detach="false"))
    res = node.svcmgr("-s", svc, "start")
    assert res.rc == 1 and f"container {svc}.container.0 exited with code 5" in res.err


def test_the_resource_monitor_of_a_standalone_daemon_restarts_a_dead_container(
        node: Node, container_scope: str):
    import subprocess
    import time

    from e2e_support import BIN

    svc = container_scope
    node.write(svc, "[DEFAULT]\norchestrate = start\nmonitor_schedule = @1s\n\n"
               + box("container#0", "/bin/sleep 300", rm="true", init="true", restart="3",
                     restart_delay="100ms"))
    daemon_log = node.root / "daemon.log"
    with open(daemon_log, "w") as out:
        daemon = subprocess.Popen([str(BIN / "nodemgr"), "daemon", "run"], env=node.env,
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    name = f"{svc}.container.0"

    def wait(predicate, what: str, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; the daemon said:\n"
                             + daemon_log.read_text()[-3000:])

    try:
        wait(lambda: running(name), "the container started by the daemon")
        first = podman("inspect", "--format", "{{.Id}}", name).stdout
        assert podman("kill", name).returncode == 0
        wait(lambda: running(name) and podman("inspect", "--format", "{{.Id}}",
                                              name).stdout != first,
             "a new container started by the resource monitor")
        wait(lambda: [r for r in node.runs(svc) if r["rid"] == "resource_monitor"
                      and r["status"] == "ok"], "the restart's record")
    finally:
        daemon.terminate()
        daemon.wait(30)
    assert node.svcmgr("-s", svc, "stop").rc == 0
    assert containers(f"{svc}.") == []


def test_one_engine_listing_serves_the_status_of_every_container(
        node: Node, container_scope: str, tmp_path):
    """A status of three containers (running, exited with its code, absent) asks the engine
    once, with one ``ps -a``, and reads each right; a start in the same process is seen at
    once (the listing is dropped)."""
    svc = container_scope
    node.write(svc, box("container#0", "/bin/sleep 300", rm="true")
               + box("container#1", "/bin/sleep 300", rm="false")
               + box("container#2", "/bin/sleep 300", rm="true"))
    assert node.svcmgr("-s", svc, "start").rc == 0
    assert podman("kill", f"{svc}.container.1").returncode == 0  # exits 137, kept (rm off)
    podman("wait", f"{svc}.container.1")
    assert podman("rm", "-f", "-t", "0", f"{svc}.container.2").returncode == 0
    env, calls = recording_shim(tmp_path, "podman")
    res = node.svcmgr("-s", svc, "print", "status", "--format", "json", env=env)
    assert res.rc == 0, res.err
    found = res.json()["resources"]
    assert found["container#0"]["status"] == "up"
    assert found["container#1"]["status"] == "down"
    assert found["container#1"]["reason"] == f"container {svc}.container.1 is exited " \
        "(exit code 137)"
    assert found["container#2"]["reason"] == f"no container {svc}.container.2"
    asked = calls.read_text().splitlines()
    assert [a for a in asked if a.startswith(("ps", "container inspect"))] == \
        ["ps -a --no-trunc --format json"], asked
    assert node.svcmgr("-s", svc, "stop").rc == 0

