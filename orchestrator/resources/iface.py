"""What this node's network interfaces hold, read with iproute2 (``ip -j addr``): the
addresses on an interface, their labels, whether its link has a carrier. The parsing is
pure (tests feed it iproute2's JSON)."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path

from orchestrator.resources import hostcmd
from orchestrator.resources.listing import Listing

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_SYS_NET = Path("/sys/class/net")


@dataclass(frozen=True)
class Plumbed:
    """One address on an interface."""

    address: IPAddress
    prefix: int
    label: str | None  # IPv4 only: "eth0" or a stacked "eth0:1"
    dev: str


def parse_addresses(text: str) -> list[Plumbed]:
    """``ip -j addr show`` output -> every address, interface by interface."""
    found = []
    for link in json.loads(text or "[]"):
        for info in link.get("addr_info", ()):
            if info.get("family") not in ("inet", "inet6") or "local" not in info:
                continue
            found.append(Plumbed(ipaddress.ip_address(info["local"]), int(info["prefixlen"]),
                                 info.get("label"), link.get("ifname", "")))
    return found


class NoSuchInterface(Exception):
    pass


def addresses(dev: str) -> list[Plumbed]:
    """The addresses on ``dev``; NoSuchInterface when this node has no such interface."""
    if not interface_exists(dev):
        raise NoSuchInterface(dev)
    res = hostcmd.run(["ip", "-j", "addr", "show", "dev", dev], timeout=10, log=False)
    if not res.ok:
        if not interface_exists(dev):
            raise NoSuchInterface(dev)
        raise OSError(res.failure())
    return parse_addresses(res.out)


# one ``ip -j addr show`` serves every address resource's status for 2 s (resources.listing)
_LISTING: Listing[dict[str, list[Plumbed]]] = Listing(2.0)


def listed_addresses(dev: str) -> list[Plumbed]:
    """The addresses on ``dev`` as one listing of every interface shows them (shared by the
    callers of the next few seconds; :func:`forget_listing` drops it when this process
    adds or removes an address). NoSuchInterface as :func:`addresses`."""
    found = _LISTING.get("", _every_address).get(dev)
    if found is None:
        return addresses(dev)  # made since the listing, or none: ask it alone
    return found


def _every_address() -> dict[str, list[Plumbed]]:
    res = hostcmd.run(["ip", "-j", "addr", "show"], timeout=10, log=False)
    if not res.ok:
        raise OSError(res.failure())
    by_dev: dict[str, list[Plumbed]] = {
        str(link.get("ifname", "")): [] for link in json.loads(res.out or "[]")}
    for plumbed in parse_addresses(res.out):
        by_dev.setdefault(plumbed.dev, []).append(plumbed)
    return by_dev


def forget_listing() -> None:
    """Drop the listing: this process changed an interface's addresses."""
    _LISTING.forget()


def holders(address: IPAddress) -> list[str]:
    """The interfaces of this node (its network namespace) holding ``address``."""
    res = hostcmd.run(["ip", "-j", "addr", "show", "to", str(address)], timeout=10, log=False)
    if not res.ok:
        return []
    return sorted({p.dev for p in parse_addresses(res.out) if p.address == address})


def interface_exists(dev: str) -> bool:
    return bool(dev) and "/" not in dev and (_SYS_NET / dev).exists()


def has_carrier(dev: str) -> bool | None:
    """True/False from the kernel's carrier flag; None when it cannot be read (a link that
    is administratively down reads EINVAL): om3 then only warns."""
    try:
        return (_SYS_NET / dev / "carrier").read_text().strip() == "1"
    except OSError:
        return None


def is_loopback(dev: str) -> bool:
    try:
        return int((_SYS_NET / dev / "flags").read_text().strip(), 16) & 0x8 != 0
    except (OSError, ValueError):
        return False


def free_label(dev: str, plumbed: list[Plumbed]) -> str:
    """The lowest ``dev:N`` label not in use (om3's AllocateDevLabel, for ``alias = false``)."""
    used = {p.label for p in plumbed if p.label}
    for n in range(1000):
        label = f"{dev}:{n}"
        if label not in used:
            return label
    raise OSError(f"no free label index on interface {dev}")
