"""The address an ip resource's ``name`` stands for, as om3's getaddr does it: a literal
address is itself; a host name is looked up, its first address kept in a cache file, and when
a later lookup fails the cached address is used with its age. An address older than 19
minutes is no longer trusted to start or stop (the admin must fix the name or the DNS); a
younger one is used, and the status reads warn."""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from orchestrator.resources.iface import IPAddress

MAX_AGE = 19 * 60.0  # om3's maxIPAddrAge
LOOKUP_TIMEOUT = 10.0  # om3's resolver dial timeout


@dataclass(frozen=True)
class Resolved:
    address: IPAddress
    age: float = 0.0  # 0: resolved now; else the age of the cached address used
    warning: str | None = None  # a lookup that went wrong (several addresses, cache used)

    @property
    def expired(self) -> bool:
        return self.age > MAX_AGE


class Unresolvable(Exception):
    pass


def resolve(name: str, cache_dir: Path) -> Resolved:
    """The address of ``name``; Unresolvable when neither the lookup nor the cache has one."""
    try:
        return Resolved(ipaddress.ip_address(name))
    except ValueError:
        pass
    try:
        addresses = _lookup(name)
    except OSError as exc:
        return _cached(name, cache_dir, str(exc))
    warning = None
    if len(addresses) > 1:
        warning = f"name {name} resolves to {len(addresses)} addresses; using {addresses[0]}"
    _store(name, cache_dir, addresses[0])
    return Resolved(addresses[0], 0.0, warning)


def _lookup(name: str) -> list[IPAddress]:
    """getaddrinfo, bounded in time (a dead resolver must not hang a stop)."""
    result: dict[str, object] = {}

    def work() -> None:
        try:
            result["infos"] = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            result["error"] = exc

    thread = threading.Thread(target=work, name=f"lookup-{name}", daemon=True)
    thread.start()
    thread.join(LOOKUP_TIMEOUT)
    if thread.is_alive():
        raise OSError(f"lookup of {name} timed out after {LOOKUP_TIMEOUT:g}s")
    if "error" in result:
        raise OSError(f"lookup of {name} failed: {result['error']}")
    unique: list[IPAddress] = []
    for info in result["infos"]:  # type: ignore[attr-defined]
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if addr not in unique:
            unique.append(addr)
    if not unique:
        raise OSError(f"name {name} is unresolvable")
    return unique


def _cache_file(name: str, cache_dir: Path) -> Path:
    return cache_dir / name.replace("/", "_")


def _store(name: str, cache_dir: Path, address: IPAddress) -> None:
    path = _cache_file(name, cache_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(str(address))
        os.replace(tmp, path)
    except OSError:
        pass  # a cache we cannot write only costs the fallback


def _cached(name: str, cache_dir: Path, why: str) -> Resolved:
    path = _cache_file(name, cache_dir)
    try:
        address = ipaddress.ip_address(path.read_text().strip())
        age = max(time.time() - path.stat().st_mtime, 0.001)
    except (OSError, ValueError):
        raise Unresolvable(f"{why}, and no cached address") from None
    return Resolved(address, age, f"{why}; using the cached {address} ({age / 60:.0f}m old)")
