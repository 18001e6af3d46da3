"""Where the tests' ZooKeeper comes from, in this order of choice:

1. ``ZOOKEEPER_HOSTS``, when set (a connect string: a server or an ensemble, anywhere);
2. testcontainers, when a Docker API answers a 2 s ping (``DOCKER_HOST``, or the default
   socket): one ZooKeeper container on a network of its own (tests/zk_containers.py);
3. a local server from Debian's jars (``orchestrator.devtools.zookeeper``).

Only a failure to start moves on to the next; if none starts, :class:`NoZooKeeper` says
why each failed. tests/conftest.py's ``zk_hosts`` is this, and the container tests call it
with and without an engine to see each branch taken.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestrator.devtools.zookeeper import ZooKeeperEnsemble, ZooKeeperHarnessError


class NoZooKeeper(Exception):
    """No source could give the tests a ZooKeeper."""


@dataclass(frozen=True)
class ZooKeeperSource:
    hosts: str
    kind: str  # "ZOOKEEPER_HOSTS", "testcontainers" or "local"


def engine_answers() -> bool:
    """A Docker API (Docker, or podman's service) answers within 2 s."""
    try:
        import docker

        client = docker.from_env(timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - no engine, a dead socket, no SDK: all "no"
        return False


@contextlib.contextmanager
def zookeeper_for_tests(workdir: Path) -> Iterator[ZooKeeperSource]:
    """The first source that starts; what it started is stopped on exit."""
    if os.environ.get("ZOOKEEPER_HOSTS"):
        yield ZooKeeperSource(os.environ["ZOOKEEPER_HOSTS"], "ZOOKEEPER_HOSTS")
        return
    reasons = []
    if engine_answers():
        from zk_containers import zookeeper_containers

        stack = contextlib.ExitStack()
        try:
            zk = stack.enter_context(zookeeper_containers(size=1))
        except Exception as exc:  # noqa: BLE001 - any failure to start falls back
            reasons.append(f"testcontainers: {exc}")
        else:
            # the clean-up runs outside that try: a container that fails to go is reported
            # as the error it is, never followed by a second source
            with stack:
                yield ZooKeeperSource(zk.hosts, "testcontainers")
            return
    ensemble = ZooKeeperEnsemble(workdir, size=1)
    try:
        ensemble.start()
    except ZooKeeperHarnessError as exc:
        reasons.append(f"local server: {exc}")
        raise NoZooKeeper("; ".join(reasons)) from exc
    try:
        yield ZooKeeperSource(ensemble.hosts, "local")
    finally:
        ensemble.stop()
