"""Real host parts for tests of the ip, fs and disk drivers, always removed afterwards.

- ``lan(interfaces=N)``: a network namespace holding a bridge with ``LAN_ADDRESS``
  (198.51.100.200/25), and N veth pairs whose host ends (``lan.interfaces``) are the
  interfaces a node's ip resources use. ``lan.ping(addr)`` pings from inside it: proof that
  an address is reachable on the segment. ``lan.hold(addr)`` puts an address on the LAN
  side (someone else has it). Two "nodes" on one host: ``lan(interfaces=2)`` and
  ``dev@n1 = lan.interfaces[0]``, ``dev@n2 = lan.interfaces[1]``.
- ``host_scratch(directory)``: at exit, everything mounted under ``directory`` is unmounted
  (deepest first, lazily if it must) and every loop device backed by a file under it is
  detached, whatever the test left behind.
- ``free_address()``: an address of 198.51.100.128/25 no interface of this host holds.
- ``require_tools(...)``: fails (never skips) when a tool the bootstrap installs is missing.

Names are unique per use (interfaces at most 15 characters), so tests never meet.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TEST_NET = ipaddress.ip_network("198.51.100.128/25")
LAN_ADDRESS = "198.51.100.200"
LAN_PREFIX = 25


def sh(*argv: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


def require_tools(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        pytest.fail(f"missing host tools {missing}: run deploy/bootstrap.sh", pytrace=False)


def unique_tag() -> str:
    return uuid.uuid4().hex[:6]


def host_addresses() -> set[str]:
    out = sh("ip", "-j", "addr", "show").stdout
    return {a["local"] for link in json.loads(out) for a in link.get("addr_info", ())
            if "local" in a}


def free_address(*besides: str) -> str:
    """The first address of 198.51.100.128/25 on no interface here (nor in ``besides``)."""
    taken = host_addresses() | {LAN_ADDRESS, *besides}
    for host in TEST_NET.hosts():
        if str(host) not in taken and int(str(host).rsplit(".", 1)[1]) > 128:
            return str(host)
    raise AssertionError("no free address in 198.51.100.128/25")


def addresses_on(dev: str) -> list[str]:
    """``ADDR/PREFIX`` of every address on a host interface (IPv4 and IPv6)."""
    out = sh("ip", "-j", "addr", "show", "dev", dev).stdout
    return [f"{a['local']}/{a['prefixlen']}" for link in json.loads(out)
            for a in link.get("addr_info", ()) if "local" in a]


@dataclass
class Lan:
    netns: str
    bridge: str = "olanbr"
    interfaces: list[str] = field(default_factory=list)  # host ends
    peers: list[str] = field(default_factory=list)  # their ends on the bridge, in the netns

    def run(self, *argv: str, check: bool = True, timeout: float = 30
            ) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", self.netns, *argv, check=check, timeout=timeout)

    def ping(self, address: str, timeout: int = 1) -> bool:
        return self.run("ping", "-c", "1", "-W", str(timeout), address, check=False).returncode == 0

    def hold(self, address: str, prefix: int = LAN_PREFIX) -> None:
        """Put ``address`` on the LAN side: another machine holds it."""
        sh("ip", "-n", self.netns, "addr", "add", f"{address}/{prefix}", "dev", self.bridge)

    def release(self, address: str, prefix: int = LAN_PREFIX) -> None:
        sh("ip", "-n", self.netns, "addr", "del", f"{address}/{prefix}", "dev", self.bridge,
           check=False)


@contextlib.contextmanager
def lan(interfaces: int = 1) -> Iterator[Lan]:
    """A LAN namespace and ``interfaces`` veth pairs into it; all deleted at exit."""
    require_tools("ip", "ping", "arping")
    tag = unique_tag()
    net = Lan(netns=f"olan-{tag}")
    try:
        sh("ip", "netns", "add", net.netns)
        sh("ip", "-n", net.netns, "link", "set", "lo", "up")
        sh("ip", "-n", net.netns, "link", "add", net.bridge, "type", "bridge")
        sh("ip", "-n", net.netns, "addr", "add", f"{LAN_ADDRESS}/{LAN_PREFIX}", "dev",
           net.bridge)
        sh("ip", "-n", net.netns, "link", "set", net.bridge, "up")
        for i in range(interfaces):
            host, peer = f"o{tag}h{i}", f"o{tag}p{i}"
            sh("ip", "link", "add", host, "type", "veth", "peer", "name", peer)
            net.interfaces.append(host)
            sh("ip", "link", "set", peer, "netns", net.netns)
            net.peers.append(peer)
            sh("ip", "-n", net.netns, "link", "set", peer, "master", net.bridge)
            sh("ip", "-n", net.netns, "link", "set", peer, "up")
            sh("ip", "link", "set", host, "up")
        yield net
    finally:
        for host in net.interfaces:
            sh("ip", "link", "del", host, check=False)  # its peer goes with it
        sh("ip", "netns", "del", net.netns, check=False)


def _mounts_under(directory: str) -> list[str]:
    found = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            point = line.split()[4].replace("\\040", " ")
            if point == directory or point.startswith(directory.rstrip("/") + "/"):
                found.append(point)
    return found


def _loops_under(directory: str) -> list[str]:
    found = []
    for loop in Path("/sys/block").glob("loop*"):
        try:
            backing = (loop / "loop" / "backing_file").read_text().strip()
        except OSError:
            continue
        backing = backing.removesuffix(" (deleted)")
        if backing.startswith(directory.rstrip("/") + "/"):
            found.append(f"/dev/{loop.name}")
    return found


def clean_host(directory: str) -> list[str]:
    """Unmount everything under ``directory``, detach the loops of its files; what was
    found (a test that cleaned up after itself leaves nothing to find)."""
    directory = os.path.realpath(directory)
    left = []
    for point in sorted(set(_mounts_under(directory)), key=len, reverse=True):
        left.append(f"mount {point}")
        if sh("umount", point, check=False).returncode != 0:
            sh("umount", "-l", point, check=False)
    for loop in _loops_under(directory):
        left.append(f"loop {loop}")
        sh("losetup", "-d", loop, check=False)
    return left


@contextlib.contextmanager
def host_scratch(directory: Path) -> Iterator[Path]:
    """``directory``, made; whatever is mounted or attached under it is removed at exit."""
    require_tools("losetup", "mount", "umount", "mkfs.ext4", "blkid", "fuser")
    directory.mkdir(parents=True, exist_ok=True)
    try:
        yield directory
    finally:
        clean_host(str(directory))


def loop_devices_of(path: Path) -> list[str]:
    """The loop devices backed by ``path``."""
    out = sh("losetup", "-n", "-O", "NAME", "-j", str(path)).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def mountpoint_source(point: Path) -> str | None:
    """The source of what is mounted on ``point`` (the top one), or None."""
    proc = sh("findmnt", "-n", "-o", "SOURCE", "--mountpoint", str(point), check=False)
    lines = proc.stdout.split()
    return lines[-1] if proc.returncode == 0 and lines else None
