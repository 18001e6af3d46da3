"""The collector (a service of its own) and the node-side push client.

Node side: ``PushClient`` (client.py). Collector side: ``orchestrator-collector serve``
(cli.py) = HTTP layer (server.py, web.py) over a ``CollectorStore`` (store.py), backed by
SQLite (sqlite_store.py). See docs/collector.md.
"""

from orchestrator.collector.client import FlushResult, PushClient
from orchestrator.collector.model import KINDS

__all__ = ["KINDS", "FlushResult", "PushClient"]
