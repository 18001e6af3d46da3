"""The ``ip`` driver, type host (om3's resiphost): a service address on an interface.

start: unless it is already on the interface, refuse when the address answers elsewhere
(om3 pings it; we also ask with ARP duplicate detection on the interface, which needs no
route), ``ip addr add ADDR/PREFIX dev DEV [label DEV:N]``, then a gratuitous ARP
(``arping -U``, not waited for); an announce that fails is a warning (om3 fails the
start). stop: ``ip addr del`` with the prefix found on the interface (the config alone is
enough: the fence keeper calls it). status: up iff the address is on the interface; down
without carrier (``check_carrier``).

``name`` may be a host name (see ipname: looked up, cached). ``netmask`` unset: the prefix of
the interface's first address of the same family. ``alias = false`` stacks the address under
a free ``DEV:N`` label, ``dev = DEV:N`` forces one (om3's reading of both). Accepted without
effect: ``gateway``, ``network`` (provisioning of zones), ``expose`` (SRV records of om3's
cluster DNS), ``wait_dns`` (waits for that DNS, which this project does not run). The tag
``nonrouted`` skips the answers-elsewhere check, as in om3.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from orchestrator.log import Logger, get_logger
from orchestrator.resources import hostcmd, iface, ipname
from orchestrator.resources.problems import keyword_problem
from orchestrator.resources.status import Status

if TYPE_CHECKING:
    from pathlib import Path

    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

PROBE_TIMEOUT = 5.0  # om3's abortPing timeout
NONROUTED_TAG = "nonrouted"


class _Refused(Exception):
    """The sentence a failed action returns."""


def _cache_dir(service: Service) -> Path:
    return service.node.paths.var / "cache" / "addrinfo"


def _split_dev(rc: ResourceConfig) -> tuple[str, str | None]:
    """``eth0`` -> (eth0, None); ``eth0:1`` -> (eth0, "eth0:1"), a forced label."""
    dev, sep, _ = rc["dev"].partition(":")
    return dev, rc["dev"] if sep else None


def _resolve(service: Service, rc: ResourceConfig, acting: bool) -> ipname.Resolved:
    try:
        resolved = ipname.resolve(rc["name"], _cache_dir(service))
    except ipname.Unresolvable as exc:
        raise _Refused(keyword_problem(service, rc, "name", rc["name"], str(exc))) from None
    if acting and resolved.expired:
        raise _Refused(f"ip {rc['name']} lookup issue, cache expired "
                       f"({resolved.age / 60:.0f}m old)")
    return resolved


def _mine(address: iface.IPAddress, plumbed: list[iface.Plumbed]) -> list[iface.Plumbed]:
    return [p for p in plumbed if p.address == address]


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str, str | None]:
    dev, _ = _split_dev(rc)
    label = f"{rc['name']} {dev}"
    try:
        resolved = _resolve(service, rc, acting=False)
    except _Refused as exc:
        return Status.UNDEF, label, str(exc)
    address = resolved.address
    label = f"{address}{'/' + str(rc['netmask']) if rc['netmask'] is not None else ''} {dev}"
    if resolved.expired:
        return Status.WARN, label, (f"ip {rc['name']} lookup issue, cache expired "
                                    f"({resolved.age / 60:.0f}m old)")
    if rc["check_carrier"] and iface.has_carrier(dev) is False:
        return Status.DOWN, label, f"interface {dev} has no carrier"
    try:
        plumbed = _mine(address, iface.listed_addresses(dev))
    except iface.NoSuchInterface:
        return Status.DOWN, label, f"no interface {dev} on this node"
    except OSError as exc:
        return Status.UNDEF, label, str(exc)
    if not plumbed:
        return Status.DOWN, label, None
    first = plumbed[0]
    label = f"{address}/{first.prefix} {dev}" + (
        f" label {first.label}" if first.label and first.label != dev else "")
    if resolved.age > 0:
        return Status.WARN, label, resolved.warning
    return Status.UP, label, None


def start(service: Service, rc: ResourceConfig,
          on_line: Callable[[str], None] | None = None) -> str | None:
    log = get_logger().bind(svc=service.name, rid=rc.rid)
    try:
        _start(service, rc, log)
    except _Refused as exc:
        return str(exc)
    finally:  # the status asked next must see what this start did
        iface.forget_listing()
    return None


def _start(service: Service, rc: ResourceConfig, log: Logger) -> None:
    dev, forced_label = _split_dev(rc)
    resolved = _resolve(service, rc, acting=True)
    if resolved.warning:
        log.warning(resolved.warning)
    address = resolved.address
    try:
        plumbed = iface.addresses(dev)
    except iface.NoSuchInterface:
        raise _Refused(keyword_problem(service, rc, "dev", rc["dev"],
                                       "no such interface on this node")) from None
    except OSError as exc:
        raise _Refused(str(exc)) from None
    if _mine(address, plumbed):
        log.info(f"{address} is already up on {dev}")
        return
    if rc["check_carrier"] and iface.has_carrier(dev) is False:
        raise _Refused(f"interface {dev} has no carrier (check_carrier = false for a "
                       "bridge or switch backend)")
    prefix = _prefix(service, rc, address, plumbed, dev)
    if NONROUTED_TAG not in rc["tags"]:
        busy = _answers_elsewhere(address, dev, log)
        if busy:
            raise _Refused(busy)
    label = forced_label or (None if rc["alias"] else iface.free_label(dev, plumbed))
    argv = ["ip", "addr", "add", f"{address}/{prefix}", "dev", dev]
    res = hostcmd.run(argv + (["label", label] if label else []), timeout=30, logger=log)
    if not res.ok:
        raise _Refused(res.failure())
    _announce(address, dev, log)


def _prefix(service: Service, rc: ResourceConfig, address: iface.IPAddress,
            plumbed: list[iface.Plumbed], dev: str) -> int:
    """The netmask keyword, else the prefix of the interface's first address of the same
    family (om3's defaultMask); it must fit the address family."""
    bits = address.max_prefixlen
    if rc["netmask"] is not None:
        if rc["netmask"] > bits:
            raise _Refused(keyword_problem(service, rc, "netmask", rc["netmask"],
                                           f"longer than {bits} bits ({address})"))
        return int(rc["netmask"])
    same = [p for p in plumbed if p.address.version == address.version]
    if not same:
        raise _Refused(keyword_problem(
            service, rc, "netmask", None,
            f"not set, and {dev} has no IPv{address.version} address to take it from"))
    return same[0].prefix


def _answers_elsewhere(address: iface.IPAddress, dev: str, log: Logger
                       ) -> str | None:
    """Why the address must not be added here (it is up elsewhere), or None. om3 pings it
    (5 s at most); an ARP duplicate-address probe on ``dev`` also catches a peer that drops
    ICMP or that this node has no route to. Both run side by side, about 1 s."""
    others = [d for d in iface.holders(address) if d != dev]
    if others:
        return f"{address} is already up on this node's interface {', '.join(others)}"
    log.info(f"checking that {address} does not answer elsewhere (ping, arping -D on {dev})")
    found: dict[str, str] = {}

    def ping() -> None:
        res = hostcmd.run(["ping", "-c", "1", "-W", "1", str(address)], timeout=PROBE_TIMEOUT,
                          log=False)
        if res.code == 127:
            found["error"] = res.failure()
        elif res.ok:
            found["ping"] = f"{address} answers ping: it is up elsewhere; not starting it here"

    def arping() -> None:
        if address.version != 4 or iface.is_loopback(dev):
            return
        res = hostcmd.run(["arping", "-D", "-c", "1", "-w", "1", "-I", dev, str(address)],
                          timeout=PROBE_TIMEOUT, log=False)
        if res.code == 127:
            found["error"] = res.failure()
        elif res.code == 1:
            mac = re.search(r"\[([0-9A-Fa-f:]{17})\]", res.out)
            found["arp"] = (f"{address} answers ARP on {dev}"
                            + (f" (from {mac.group(1)})" if mac else "")
                            + ": it is up elsewhere; not starting it here")

    threads = [threading.Thread(target=f, daemon=True) for f in (ping, arping)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PROBE_TIMEOUT + 1)
    return found.get("error") or found.get("ping") or found.get("arp")


def _announce(address: iface.IPAddress, dev: str, log: Logger) -> None:
    """A gratuitous ARP so the peers' caches follow the move (om3 skips loopback,
    link-local and IPv6 addresses, and loopback interfaces); not waited for: arping lingers
    a second for answers a gratuitous ARP never gets."""
    if (address.version != 4 or address.is_loopback or address.is_link_local
            or iface.is_loopback(dev)):
        return
    def failed(res: hostcmd.HostResult) -> None:
        log.warning(f"gratuitous ARP announce failed (the address is up): {res.failure()}")

    hostcmd.run_behind(["arping", "-U", "-c", "1", "-I", dev, str(address)], failed, logger=log)


def stop(service: Service, rc: ResourceConfig,
         on_line: Callable[[str], None] | None = None) -> str | None:
    try:
        return _stop(service, rc)
    finally:
        iface.forget_listing()


def _stop(service: Service, rc: ResourceConfig) -> str | None:
    log = get_logger().bind(svc=service.name, rid=rc.rid)
    dev, _ = _split_dev(rc)
    try:
        address = _resolve(service, rc, acting=True).address
    except _Refused as exc:
        return str(exc)
    try:
        plumbed = _mine(address, iface.addresses(dev))
    except iface.NoSuchInterface:
        log.info(f"{address} is already down (no interface {dev} on this node)")
        return None
    except OSError as exc:
        return str(exc)
    if not plumbed:
        log.info(f"{address} is already down on {dev}")
        return None
    for p in plumbed:
        res = hostcmd.run(["ip", "addr", "del", f"{address}/{p.prefix}", "dev", dev],
                          timeout=30, logger=log)
        if not res.ok and _mine(address, iface.addresses(dev)):
            return res.failure()
    return None

