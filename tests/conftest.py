"""Shared fixtures: a real ZooKeeper for every test that needs one.

``zk_hosts`` (session): ``ZOOKEEPER_HOSTS`` if set; else a testcontainers ZooKeeper when a
Docker engine answers a 2 s ping; else a local server from Debian's jars
(``orchestrator.devtools.zookeeper``). If none starts, the fixture fails: never a skip.
``zk_chroot``: ``zk_hosts`` plus a unique chroot, so ephemeral leftovers of one test (they
live a session timeout) never meet the next. ``zk_ensemble``: a fresh 3-member ensemble.
Containers: ``testbox`` (the test image) and ``container_scope`` come from
tests/container_support.py, and CONTAINERS_CONF is exported here for every process.
"""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# The package is not installed in the venv: make the checkout importable however pytest runs.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from container_support import (  # noqa: E402, F401 - fixtures for every test directory
    container_scope,
    export_engine_env,
    testbox,
)

from orchestrator.devtools.zookeeper import (  # noqa: E402
    ZooKeeperEnsemble,
    ZooKeeperHarnessError,
    server_mode,
)

# podman's configuration for this machine (tests/containers.conf) in every process the
# tests start: the CLI, daemons, fence keepers (tests/container_support.py says why)
export_engine_env()


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


def _container_zookeeper() -> Iterator[str]:
    from testcontainers.core.container import DockerContainer

    container = (
        DockerContainer("zookeeper:3.8")
        .with_env("ZOO_TICK_TIME", "500")
        .with_env("ZOO_4LW_COMMANDS_WHITELIST", "*")
        .with_exposed_ports(2181)
    )
    container.start()
    try:
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(2181))
        deadline = time.monotonic() + 60
        while server_mode(host, port) is None:
            if time.monotonic() > deadline:
                raise RuntimeError("ZooKeeper container not ready after 60 s")
            time.sleep(0.2)
        yield f"{host}:{port}"
    finally:
        container.stop()


@pytest.fixture(scope="session")
def zk_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("ZOOKEEPER_HOSTS"):
        yield os.environ["ZOOKEEPER_HOSTS"]
        return
    reasons = []
    if _docker_answers():
        container = _container_zookeeper()
        try:
            hosts = next(container)  # only a failure to start falls back to the local server
        except Exception as exc:
            reasons.append(f"testcontainers: {exc}")
        else:
            # the teardown runs outside that try: a container that fails to stop is reported
            # as the error it is, never followed by a second yield (a fallback server)
            try:
                yield hosts
            finally:
                next(container, None)
            return
    ensemble = ZooKeeperEnsemble(tmp_path_factory.mktemp("zookeeper"), size=1)
    try:
        ensemble.start()
    except ZooKeeperHarnessError as exc:
        reasons.append(f"local server: {exc}")
        pytest.fail("no ZooKeeper for the tests: " + "; ".join(reasons), pytrace=False)
    try:
        yield ensemble.hosts
    finally:
        ensemble.stop()


@pytest.fixture
def zk_chroot(zk_hosts: str, request: pytest.FixtureRequest) -> str:
    """A connect string with a chroot of its own: ``host:port[,...]/tests/<test>-<uuid>``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:60]
    return f"{zk_hosts.rstrip('/')}/tests/{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def zk_ensemble(tmp_path: Path) -> Iterator[ZooKeeperEnsemble]:
    """A fresh local 3-member ensemble (needs Debian's zookeeper package); failure fails."""
    ensemble = ZooKeeperEnsemble(tmp_path / "ensemble", size=3)
    try:
        ensemble.start()
    except ZooKeeperHarnessError as exc:
        pytest.fail(f"could not start a 3-member ZooKeeper ensemble: {exc}", pytrace=False)
    try:
        yield ensemble
    finally:
        ensemble.stop()
