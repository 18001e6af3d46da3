"""Containers in the tests: the engine's configuration, the test image, and clean-up.

* ``CONTAINERS_CONF`` (tests/containers.conf: runc, rlimits this machine accepts) is put
  in this process's environment when tests/conftest.py imports this module, so every
  process the tests start inherits it: svcmgr, nodemgr daemons, their fence keepers,
  podman itself. A test that builds an environment from scratch adds :func:`engine_env`.
* ``TESTBOX`` (``localhost/testbox:latest``) is a busybox-static image made by
  deploy/testbox.sh (the bootstrap runs it; the ``testbox`` session fixture runs it again,
  ~20 ms when the image is there): sh, echo, cat, sleep, id, env, ls, nc, httpd, wget ...
  No registry is reachable: never name another image.
* Containers only ever get ``--network none`` or ``host`` (the container driver's default
  is none), or a network a test creates on 198.51.100.0/25: never podman's default bridge.
* ``container_scope`` gives a test a unique service name; every container whose name
  starts with it (the driver names them ``<svc>.<rid>``, a task's ``<svc>.<rid>.<run id>``)
  is removed when the test ends, failed or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONTAINERS_CONF = REPO / "tests" / "containers.conf"
TESTBOX = "localhost/testbox:latest"
# PATH without /usr/local/bin: there `docker` is a client-only Docker; /usr/bin/docker is
# podman-docker's (podman under Docker's name)
PODMAN_DOCKER_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def engine_env() -> dict[str, str]:
    """What a process needs to run the tests' containers."""
    return {"CONTAINERS_CONF": str(CONTAINERS_CONF)}


def export_engine_env() -> None:
    """Into this process's environment (children inherit it); an explicit one is kept."""
    os.environ.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))


def podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **engine_env()}
    return subprocess.run(["podman", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def ensure_testbox() -> str:
    """Build the test image if it is not there (deploy/testbox.sh); fail loudly without podman."""
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed: run deploy/bootstrap.sh", pytrace=False)
    proc = subprocess.run(["bash", str(REPO / "deploy" / "testbox.sh")], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **engine_env()})
    if proc.returncode != 0:
        pytest.fail(f"deploy/testbox.sh failed: {proc.stderr.strip()}", pytrace=False)
    return TESTBOX


def containers(prefix: str) -> list[str]:
    """Names of the containers (any state) whose name starts with ``prefix``."""
    proc = podman("ps", "-a", "--format", "{{.Names}}")
    assert proc.returncode == 0, proc.stderr
    return sorted(n for n in proc.stdout.split() if n.startswith(prefix))


def running(name: str) -> bool:
    proc = podman("container", "inspect", "--format", "{{.State.Running}}", name)
    return proc.returncode == 0 and proc.stdout.strip() == "true"


def remove_containers(prefix: str) -> list[str]:
    """Kill and remove every container whose name starts with ``prefix``; their names."""
    names = containers(prefix)
    for _ in range(5):  # one sharing another's namespace must go first: retry the rest
        left = containers(prefix)
        if not left:
            break
        for name in reversed(left):
            podman("rm", "-f", "-t", "0", name)
    assert containers(prefix) == [], f"containers left behind: {containers(prefix)}"
    return names


def unique_service(tag: str = "ct") -> str:
    return f"{tag}{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def testbox() -> str:
    """The test image's name, built if missing."""
    return ensure_testbox()


@pytest.fixture
def container_scope(testbox: str) -> Iterator[str]:
    """A unique service name; its containers are removed when the test ends."""
    svc = unique_service()
    try:
        yield svc
    finally:
        remove_containers(f"{svc}.")
