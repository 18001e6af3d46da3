"""Podman's Docker-compatible API for testcontainers and docker-compose, and the networks
the tests create on it.

* :class:`PodmanService` runs ``podman system service --time=0 unix:///DIR/podman.sock``
  (a socket of its own, never the machine's default one, so the rest of the suite keeps its
  choice of ZooKeeper) and stops it; ``docker_host`` is what ``DOCKER_HOST`` takes.
* :func:`free_subnets` lists the /28 blocks of 198.51.100.0/25 that no podman network and
  no host route uses: tests put their networks there, never on podman's default network.
  Tests running side by side may race for a block: :func:`create_network` tries the next
  one when podman refuses a subnet already in use.
* :func:`network_exists`: whether a test's network is still there (it must not be, after).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from container_support import engine_env, podman

TEST_NETWORKS = ipaddress.ip_network("198.51.100.0/25")
BLOCK = 28  # 14 addresses: a 3-member ensemble, or the compose cluster's 7 containers


class PodmanService:
    """``podman system service`` on ``<directory>/podman.sock`` for the tests' lifetime."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "podman.sock"
        self.log_path = directory / "podman-service.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    def env(self) -> dict[str, str]:
        """What a client of this service needs (testcontainers, docker-compose)."""
        return {**engine_env(), "DOCKER_HOST": self.docker_host,
                "TESTCONTAINERS_RYUK_DISABLED": "true"}

    def start(self, timeout: float = 30.0) -> None:
        if shutil.which("podman") is None:
            raise RuntimeError("podman is not installed: run deploy/bootstrap.sh")
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                ["podman", "system", "service", "--time=0", self.docker_host],
                env={**os.environ, **engine_env()}, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"podman system service did not answer on {self.socket}: "
                                   + self.log_path.read_text(errors="replace")[-2000:])
            time.sleep(0.1)

    def answers(self) -> bool:
        import docker

        try:
            client = docker.DockerClient(base_url=self.docker_host, timeout=2)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; the socket file goes too."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()


def _used_networks() -> list[ipaddress.IPv4Network]:
    used: list[ipaddress.IPv4Network] = []
    names = podman("network", "ls", "--format", "{{.Name}}").stdout.split()
    if names:
        proc = podman("network", "inspect", *names)
        for net in json.loads(proc.stdout or "[]"):
            for sub in net.get("subnets") or []:
                with contextlib.suppress(ValueError, KeyError):
                    used.append(ipaddress.ip_network(sub["subnet"], strict=False))
    routes = subprocess.run(["ip", "-j", "route", "show", "table", "all"], capture_output=True,
                            text=True, timeout=10)
    for route in json.loads(routes.stdout or "[]"):
        with contextlib.suppress(ValueError):
            dst = route.get("dst", "")
            if dst and dst != "default" and ":" not in dst:
                used.append(ipaddress.ip_network(dst, strict=False))
    return used


def free_subnets() -> list[ipaddress.IPv4Network]:
    """The /28 blocks of 198.51.100.0/25 that overlap no podman network and no host route."""
    used = [u for u in _used_networks() if u.overlaps(TEST_NETWORKS)]
    return [block for block in TEST_NETWORKS.subnets(new_prefix=BLOCK)
            if not any(block.overlaps(u) for u in used)]


def create_network(client: Any, name: str, labels: dict[str, str] | None = None) -> Any:
    """A bridge network ``name`` on a free block of 198.51.100.0/25 (docker SDK object)."""
    import docker
    from docker.types import IPAMConfig, IPAMPool

    refused = []
    for block in free_subnets():
        gateway = str(next(block.hosts()))
        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=str(block), gateway=gateway)])
        try:
            return client.networks.create(name, driver="bridge", ipam=ipam,
                                          labels=labels or {})
        except docker.errors.APIError as exc:  # taken meanwhile by a test running alongside
            refused.append(f"{block}: {exc.explanation or exc}")
    raise RuntimeError("no free /28 in 198.51.100.0/25 for a test network"
                       + (f" ({'; '.join(refused)})" if refused else ""))


def subnet_of(network: Any) -> ipaddress.IPv4Network:
    network.reload()
    config = network.attrs["IPAM"]["Config"][0]
    return ipaddress.ip_network(config["Subnet"])


def network_exists(name: str) -> bool:
    return podman("network", "exists", name).returncode == 0
