"""``type = docker`` through a genuine Docker CLI: no Docker engine runs on these machines,
so the Docker client (the one this machine kind has in /usr/local/bin) talks to podman's
Docker-compatible API (``podman system service``) on a socket of this test's own, given
with DOCKER_HOST. This drives the docker code path with Docker's own argument parsing and
exit codes; the engine behind it is still podman (see the module's assertions for what
that shows, and the container driver's docs for what stays untested)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from container_support import containers, engine_env, running
from e2e_support import Node

pytestmark = pytest.mark.usefixtures("testbox")
IMAGE = "localhost/testbox:latest"


def genuine_docker() -> str:
    path = shutil.which("docker")
    version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout \
        if path else ""
    if not version.startswith("Docker version"):
        pytest.fail(f"no Docker client in PATH ({path}: {version.strip() or 'none'}); this "
                    "machine kind has one in /usr/local/bin", pytrace=False)
    return path


@pytest.fixture(scope="module")
def docker_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """podman's Docker API on a socket of its own (never /run/podman/podman.sock: the
    /var/run/docker.sock podman-docker links there would then answer every Docker ping)."""
    sock = tmp_path_factory.mktemp("podman-api") / "podman.sock"
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"],
                               env={**os.environ, **engine_env()}, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            if time.monotonic() > deadline or service.poll() is not None:
                pytest.fail("podman system service did not come up", pytrace=False)
            time.sleep(0.05)
        yield f"unix://{sock}"
    finally:
        service.terminate()
        try:
            service.wait(10)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()


def runs(node: Node, svc: str, rid: str) -> list[dict]:
    return [r for r in node.runs(svc) if r["rid"] == rid]


def test_a_docker_task_exit_code_output_and_timeout(node: Node, container_scope: str,
                                                     docker_host: str):
    client = genuine_docker()
    svc = container_scope
    node.write(svc, f"""
        [task#three]
        type = docker
        image = {IMAGE}
        command = /bin/sh -c 'echo from the docker cli; exit 3'

        [task#slow]
        type = docker
        image = {IMAGE}
        command = /bin/sleep 300
        timeout = 1
        kill_grace = 1
        """)
    env = {"DOCKER_HOST": docker_host}
    res = node.svcmgr("-s", svc, "run", "--rid", "task#three", env=env)
    assert res.rc == 1 and "from the docker cli" in res.out
    [three] = runs(node, svc, "task#three")
    # exit 3 survives: without --rm (podman 4.3's API reports 0 to a Docker CLI with --rm)
    assert (three["exit_code"], three["extra"]["container"]["engine"]) == (3, client)
    res = node.svcmgr("-s", svc, "run", "--rid", "task#slow", env=env)
    [slow] = runs(node, svc, "task#slow")
    assert (slow["status"], slow["exit_code"]) == ("timeout", 137)
    assert containers(f"{svc}.") == []


def test_a_docker_container_resource_and_oci_choosing_an_answering_docker(
        node: Node, container_scope: str, docker_host: str):
    client = genuine_docker()
    svc = container_scope
    node.write(svc, f"""
        [container#0]
        type = docker
        image = {IMAGE}
        command = /bin/sleep 300
        init = true
        rm = true

        [task#0]
        type = oci
        image = {IMAGE}
        netns = container#0
        command = /bin/true
        """)
    env = {"DOCKER_HOST": docker_host}
    res = node.svcmgr("-s", svc, "start", env=env)
    assert res.rc == 0, res.err
    name = f"{svc}.container.0"
    assert running(name)
    status = node.svcmgr("-s", svc, "print", "status", "--format", "json", env=env).json()
    assert status["resources"]["container#0"]["status"] == "up"
    assert node.svcmgr("-s", svc, "run", "--rid", "task#0", env=env).rc == 0
    [run] = runs(node, svc, "task#0")
    assert run["extra"]["container"]["engine"] == client  # oci: Docker answers, so docker
    assert node.svcmgr("-s", svc, "stop", env=env).rc == 0
    assert containers(f"{svc}.") == []
    log = Path(node.svc_var(svc) / "resources" / "container#0.log").read_text()
    assert f"docker run --name {name} --detach --init --network none" in log
