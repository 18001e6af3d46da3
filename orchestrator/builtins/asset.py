"""The node's asset facts, pushed by the node job ``pushasset`` (``push.push_asset``).

Cheap reads only (psutil, platform, /proc, /etc/os-release): no DNS lookup, no command. A
fact that cannot be read is left out, never an error.
"""

from __future__ import annotations

import platform
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig


def asset_facts(node: NodeConfig) -> dict[str, Any]:
    """``{"nodename", "hostname", "os_name", "os_release", "os_distro", "arch", "cpu_count",
    "cpu_cores", "cpu_model", "mem_bytes", "swap_bytes", "boot_time", "ip_addresses",
    "python_version", "orchestrator_version", "cluster"}`` (those that could be read)."""
    import psutil

    import orchestrator

    facts: dict[str, Any] = {
        "nodename": node.nodename,
        "hostname": socket.gethostname(),
        "os_name": platform.system(),
        "os_release": platform.release(),  # the kernel on Linux
        "arch": platform.machine(),
        "python_version": platform.python_version(),
        "orchestrator_version": orchestrator.__version__,
        "cluster": node.get("cluster", "name") if node.is_clustered else None,
    }
    readers = {
        "os_distro": _os_distro,
        "cpu_count": lambda: psutil.cpu_count(logical=True),
        "cpu_cores": lambda: psutil.cpu_count(logical=False),
        "cpu_model": _cpu_model,
        "mem_bytes": lambda: psutil.virtual_memory().total,
        "swap_bytes": lambda: psutil.swap_memory().total,
        "boot_time": lambda: datetime.fromtimestamp(psutil.boot_time(), UTC).isoformat(),
        "ip_addresses": _ip_addresses,
    }
    for key, read in readers.items():
        try:
            value = read()
        except (OSError, RuntimeError, ValueError):
            continue
        if value is not None:
            facts[key] = value
    return {k: v for k, v in facts.items() if v is not None}


def _os_distro() -> str | None:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME")
    except OSError:
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, sep, value = line.partition(":")
                if sep and key.strip() in ("model name", "Model", "cpu model"):
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def _ip_addresses() -> list[str]:
    """Every address of every interface but loopback and IPv6 link-local, sorted."""
    import psutil

    found = set()
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            ip = a.address.split("%", 1)[0]
            if ip.startswith(("127.", "fe80:")) or ip == "::1":
                continue
            found.add(ip)
    return sorted(found)
