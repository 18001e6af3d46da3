"""Keywords of ``[ip#N]`` sections (om3's ip.host manifest; v2 names as aliases)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from orchestrator.config import types as t
from orchestrator.config.keyword import RESOURCE_COMMON, Keyword
from orchestrator.config.keyword import kw as _kw

ROWS: list[Keyword] = [
    _kw("ip", "type", t.to_string, "host", "Address driver: host (an address on an interface)."),
    _kw("ip", "name", t.to_address_or_hostname, None,
        "The address, or a host name resolved at each status, start and stop (first address; "
        "the last one cached, trusted for 19 minutes when the lookup fails).",
        required=True, aliases=("ipname",)),
    _kw("ip", "dev", t.to_interface, None,
        "Interface to put the address on; `DEV:N` forces the stacked label DEV:N.",
        required=True, aliases=("ipdev",)),
    _kw("ip", "netmask", t.to_netmask, None,
        "Prefix length (24, 64) or dotted IPv4 mask. Unset: the prefix of the interface's "
        "first address of the same family."),
    _kw("ip", "alias", t.to_bool, True,
        "true: the address is added without a label; false: under the first free DEV:N "
        "label (om3)."),
    _kw("ip", "check_carrier", t.to_bool, True,
        "No carrier on the interface: status down and start refused. false for a bridge or "
        "switch backend."),
    _kw("ip", "gateway", t.to_string, None, "Gateway, a zone provisioning parameter (om3). "
        "Accepted, no effect: it is a provisioning parameter of Solaris zones."),
    _kw("ip", "network", t.to_string, None, "The address's network, for provisioning (om3). "
        "Accepted, no effect: there is no provision action here."),
    _kw("ip", "expose", t.to_list, (),
        "`PORT/PROTO[:HOSTPORT]` list for the SRV records of om3's cluster DNS. "
        "Accepted, no effect: there is no cluster DNS here."),
    _kw("ip", "wait_dns", t.to_duration, 0.0,
        "After start, wait this long at most for the cluster DNS to resolve the name (om3). "
        "Accepted, no effect: there is no cluster DNS here to wait for."),
    *[_kw("ip", n, c, d, doc) for n, c, d, doc in RESOURCE_COMMON],
]


def check(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Across keywords: a literal address's netmask fits its family."""
    try:
        address = ipaddress.ip_address(values.get("name") or "")
    except ValueError:
        return []
    mask = values.get("netmask")
    if mask is not None and mask > address.max_prefixlen:
        return [("netmask", f"longer than {address.max_prefixlen} bits ({address})")]
    return []


CHECKS = [("ip", check)]
