"""Keywords of node.conf's ``[metrics]`` section: the daemon's Prometheus endpoint."""

from __future__ import annotations

from orchestrator.config.keyword import Keyword
from orchestrator.config.keyword import kw as _kw


def to_listen(text: str) -> str:
    """``HOST:PORT``, ``:PORT`` (every interface) or ``[V6]:PORT``; kept as written."""
    value = text.strip()
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError("expected HOST:PORT with a port 1-65535, like 127.0.0.1:9464")
    if ":" in host and not (host.startswith("[") and host.endswith("]")):
        raise ValueError("write an IPv6 address in brackets, like [::1]:9464")
    return value


ROWS: list[Keyword] = [
    _kw("metrics", "listen", to_listen, None,
        "Address (HOST:PORT) where the node agent serves Prometheus metrics at /metrics "
        "(docs/metrics.md). Unset: no metrics endpoint.", scopable=False),
]
