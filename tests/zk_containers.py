"""ZooKeeper in containers, started by testcontainers through a Docker API (podman's).

``zookeeper_containers(size)`` creates a network of its own on a free block of
198.51.100.0/25 (tests/podman_api.py), starts ``size`` members on it with fixed addresses
(``server.N=<address>:2888:3888;2181`` lines: no name resolution needed) and waits until
each answers ``srvr`` with a mode (a quorum for an ensemble). Clients reach the members at
their own addresses, from the host, through the network's bridge. Everything it made is
removed on exit, whatever happened: the containers, then the network.

The image: ``ZOOKEEPER_IMAGE`` if set; else ``localhost/orchestrator-zookeeper:latest``
(deploy/images.sh) when the engine has it; else the official ``zookeeper:3.8``. Both read
the same ZOO_* variables. The engine comes from ``DOCKER_HOST`` as testcontainers reads it.
The reaper (Ryuk) stays off unless asked for: its image cannot be pulled here, and this
module removes what it starts.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from podman_api import create_network, subnet_of

from orchestrator.devtools.zookeeper import server_mode

LOCAL_IMAGE = "localhost/orchestrator-zookeeper:latest"
OFFICIAL_IMAGE = "zookeeper:3.8"
LABEL = "orchestrator.test"


def zookeeper_image(client: Any) -> str:
    import docker

    if os.environ.get("ZOOKEEPER_IMAGE"):
        return os.environ["ZOOKEEPER_IMAGE"]
    try:
        client.images.get(LOCAL_IMAGE)
    except docker.errors.ImageNotFound:
        return OFFICIAL_IMAGE
    return LOCAL_IMAGE


@dataclass
class ZooKeeperContainers:
    """The members of one containerized ZooKeeper (one server or an ensemble)."""

    network: str
    addresses: list[str]
    members: list[Any] = field(default_factory=list)  # testcontainers DockerContainer

    @property
    def hosts(self) -> str:
        return ",".join(f"{address}:2181" for address in self.addresses)

    def mode(self, index: int) -> str | None:
        """``leader``, ``follower``, ``standalone``, or None while it does not answer."""
        return server_mode(self.addresses[index], 2181, timeout=1.0)

    def modes(self) -> list[str | None]:
        return [self.mode(i) for i in range(len(self.addresses))]

    def leader(self) -> int | None:
        modes = self.modes()
        return modes.index("leader") if "leader" in modes else None

    def container(self, index: int) -> Any:
        """The docker SDK container of member ``index`` (kill, start, attrs...)."""
        return self.members[index].get_wrapped_container()

    def wait_serving(self, indexes: list[int] | None = None, timeout: float = 60.0) -> None:
        """Until every named member (all by default) answers with a mode."""
        wanted = range(len(self.addresses)) if indexes is None else indexes
        deadline = time.monotonic() + timeout
        while not all(self.mode(i) for i in wanted):
            if time.monotonic() > deadline:
                logs = "\n".join(
                    f"--- member {i + 1}: {self.members[i].get_logs()[0][-1500:]!r}"
                    for i in wanted if i < len(self.members))
                raise RuntimeError(f"ZooKeeper containers not serving after {timeout:g} s "
                                   f"(modes {self.modes()})\n{logs}")
            time.sleep(0.2)


def _member(image: str, network: str, tag: str, index: int, addresses: list[str],
            tick_ms: int) -> Any:
    from docker.types import EndpointConfig
    from testcontainers.core.container import DockerContainer

    servers = " ".join(f"server.{i + 1}={addr}:2888:3888;2181"
                       for i, addr in enumerate(addresses))
    container = (DockerContainer(image)
                 .with_name(f"zk-{tag}-{index + 1}")
                 .with_env("ZOO_MY_ID", str(index + 1))
                 .with_env("ZOO_TICK_TIME", str(tick_ms))
                 .with_env("ZOO_4LW_COMMANDS_WHITELIST", "*")
                 .with_env("ZOO_ADMINSERVER_ENABLED", "false"))
    if len(addresses) > 1:
        container = container.with_env("ZOO_SERVERS", servers)
    return container.with_kwargs(
        network=network, labels={LABEL: tag},
        networking_config={network: EndpointConfig("1.41", ipv4_address=addresses[index])})


@contextlib.contextmanager
def zookeeper_containers(size: int = 1, tick_ms: int = 500,
                         timeout: float = 60.0) -> Iterator[ZooKeeperContainers]:
    """``size`` ZooKeeper members on a network of their own; all removed on exit."""
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    import docker

    client = docker.from_env(timeout=60)
    tag = uuid.uuid4().hex[:8]
    net = create_network(client, f"zk-{tag}", labels={LABEL: tag})
    try:
        subnet = subnet_of(net)
        addresses = [str(host) for host in list(subnet.hosts())[1:size + 1]]  # after the gateway
        zk = ZooKeeperContainers(net.name, addresses)
        image = zookeeper_image(client)
        try:
            for i in range(size):
                member = _member(image, net.name, tag, i, addresses, tick_ms)
                zk.members.append(member)
                member.start()
            zk.wait_serving(timeout=timeout)
            yield zk
        finally:
            for member in zk.members:
                with contextlib.suppress(Exception):  # never started, or already gone
                    member.stop()
            _remove_labelled(client, tag)
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            net.remove()
        client.close()


def _remove_labelled(client: Any, tag: str) -> None:
    """Containers of this run that ``stop`` missed (a start that failed half-way)."""
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}={tag}"}):
        with contextlib.suppress(Exception):
            container.remove(force=True, v=True)
