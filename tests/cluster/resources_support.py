"""A service of real resources for two nodes on one host (issue 13), shared by the cluster
test and bench/bench_resources.py: an address on each node's veth into a LAN namespace, an
ext4 filesystem on a loop disk (one image file, a mount point per node), a container named
per node, a simple app and a podman task that writes into the filesystem.

``real_parts(base)`` makes the host parts (LAN, scratch directory, test image) and removes
everything at exit, even after a failure: the service's containers, its app processes, the
mounts and loop devices under the scratch directory, the veths and the namespace.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from container_support import TESTBOX, containers, ensure_testbox, remove_containers, running
from host_support import Lan, addresses_on, free_address, host_scratch, lan, loop_devices_of
from monitor_support import alive


@dataclass
class RealParts:
    svc: str
    net: Lan
    scratch: Path
    address: str

    @property
    def image(self) -> Path:
        return self.scratch / "shared" / "disk1.img"

    def mnt(self, node: str) -> Path:
        return self.scratch / node / "data"

    def dev(self, node: str) -> str:
        return self.net.interfaces[0 if node == "n1" else 1]

    def config(self) -> str:
        return f"""[DEFAULT]
nodes = n1 n2
orchestrate = ha

[ip#0]
name = {self.address}
netmask = 25
dev@n1 = {self.dev("n1")}
dev@n2 = {self.dev("n2")}

[disk#1]
type = loop
file = {self.image}
size = 32m

[fs#1]
type = ext4
dev = {{disk#1.exposed_devs[0]}}
mnt@n1 = {self.mnt("n1")}
mnt@n2 = {self.mnt("n2")}

[container#web]
type = podman
image = {TESTBOX}
name = {{name}}.web.{{nodename}}
command = /bin/sleep 600
rm = true
init = true
stop_timeout = 2

[app#0]
type = simple
start = /bin/sleep 600
stop_timeout = 2

[task#backup]
type = podman
image = {TESTBOX}
volume_mounts = {{fs#1.mnt}}:/data
command = sh -c "echo backup by $OPENSVC_NODENAME >> /data/backups"
environment = OPENSVC_NODENAME={{nodename}}
schedule = @2s
"""

    def container(self, node: str) -> str:
        return f"{self.svc}.web.{node}"

    def held_by(self, c: Any, node: str) -> dict[str, bool]:
        """What ``node`` holds of the service, resource by resource (the host's view)."""
        other = "n2" if node == "n1" else "n1"
        return {
            "ip": f"{self.address}/25" in addresses_on(self.dev(node))
            and f"{self.address}/25" not in addresses_on(self.dev(other)),
            "fs": os.path.ismount(self.mnt(node)) and not os.path.ismount(self.mnt(other)),
            "container": running(self.container(node))
            and not containers(self.container(other)),
            "app": app_alive(c, node, self.svc) and not app_alive(c, other, self.svc),
        }

    def nothing_held(self, c: Any) -> bool:
        return (not any(self.address in a for n in ("n1", "n2") for a in addresses_on(self.dev(n)))
                and not any(os.path.ismount(self.mnt(n)) for n in ("n1", "n2"))
                and loop_devices_of(self.image) == [] and containers(f"{self.svc}.") == []
                and not any(app_alive(c, n, self.svc) for n in ("n1", "n2")))


def app_pid(c: Any, node: str, svc: str) -> int | None:
    path = c.nodes[node].root / "var" / "lib" / "orchestrator" / "services" / svc / \
        "resources" / "app#0.pid"
    try:
        return int(json.loads(path.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def app_alive(c: Any, node: str, svc: str) -> bool:
    return alive(app_pid(c, node, svc))


def _kill_apps(svc: str) -> None:
    from orchestrator.execution.tree import processes_with_env

    for proc in processes_with_env("ORCHESTRATOR_SVCNAME", svc):
        with contextlib.suppress(OSError):
            os.kill(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def real_parts(base: Path, svc: str) -> Iterator[RealParts]:
    ensure_testbox()
    with lan(interfaces=2) as net, host_scratch(base / "host") as scratch:
        parts = RealParts(svc, net, scratch, free_address())
        try:
            yield parts
        finally:
            _kill_apps(svc)
            remove_containers(f"{svc}.")
