"""The collector: a service of its own that receives the nodes' pushes and shows them.

``orchestrator-collector serve`` (cli.py) = HTTP layer (server.py, web.py) over a
``CollectorStore`` (store.py), backed by SQLite (sqlite_store.py). The node-side client is
``orchestrator.push``; the wire contract both share is ``orchestrator.push_protocol``.
See docs/collector.md.
"""
