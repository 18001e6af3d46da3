"""Prometheus metrics of the node agent (docs/metrics.md): ``reasons`` (the fixed set of
not-run reasons, pure), ``daemon`` (the metrics and their endpoint, prometheus_client)."""

from __future__ import annotations

from typing import Any


def start(agent: Any) -> Any:
    """The agent's metrics endpoint (``daemon.DaemonMetrics``), or None when node.conf has no
    ``[metrics] listen``: then prometheus_client is not even imported."""
    if not agent.node.get("metrics", "listen"):
        return None
    from orchestrator.metrics.daemon import start as serve

    return serve(agent)
