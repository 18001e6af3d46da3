"""The node side of the collector: push to it through an on-disk queue.

``PushClient`` (client.py) queues a push durably, then delivers the queue in order;
``Courier`` (courier.py) delivers the daemon's queue on a thread of its own. The collector
itself (the server) is ``orchestrator.collector``; the wire contract they share is
``orchestrator.push_protocol``. See docs/collector.md.
"""

from orchestrator.push.client import FlushResult, PushClient
from orchestrator.push_protocol import KINDS

__all__ = ["KINDS", "FlushResult", "PushClient"]
