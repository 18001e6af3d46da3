"""The collector's HTTP layer: routes, auth, JSON in and out. The store does the rest.

Pushes need the cluster's token; a refused push writes nothing. Reads are open unless the
collector runs with ``private_reads`` (then they need a token too, and see only its cluster).
A store failure answers 503 so push clients keep their queue and retry.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from orchestrator.collector import auth
from orchestrator.collector.metrics import CollectorMetrics
from orchestrator.collector.model import PushError, parse_push
from orchestrator.collector.store import CollectorStore, StoreError
from orchestrator.collector.web import render_page
from orchestrator.collector.web_service import render_service_page
from orchestrator.log import get_logger
from orchestrator.push_protocol import CLUSTER_HEADER, KINDS, PUSH_PATH

MAX_BODY = 16 * 1024 * 1024
MAX_LIMIT = 1000
log = get_logger("collector")


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


class Collector:
    """What every request handler shares: the store, the tokens, the read policy, the
    metrics. ``db`` is how the token hint names the store (``token add ... --db DB``)."""

    def __init__(self, store: CollectorStore, tokens: Mapping[str, str],
                 private_reads: bool = False, db: str = "PATH"):
        self.store = store
        self.tokens = auth.Tokens(tokens, store)
        self.private_reads = private_reads
        self.db = db
        self.metrics = CollectorMetrics(store)

    def how_to_add(self, cluster: str | None) -> str:
        name = cluster if cluster and auth.valid_name(cluster) else "CLUSTER"
        return (f"add one on the collector's host with `orchestrator-collector token add {name} "
                f"--db {self.db}` and put it in each node's node.conf ([collector] token)")


class CollectorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], collector: Collector):
        self.collector = collector
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
    raw = query.get(name, [str(default)])[-1]
    try:
        value = int(raw)
    except ValueError:
        raise HTTPError(400, f"{name} must be an integer, got {raw!r}") from None
    if not 1 <= value <= MAX_LIMIT:
        raise HTTPError(400, f"{name} must be between 1 and {MAX_LIMIT}")
    return value


class Handler(BaseHTTPRequestHandler):
    server: CollectorServer
    server_version = "orchestrator-collector/1"
    protocol_version = "HTTP/1.1"

    # ------------------------------------------------------------------ plumbing

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        """Access lines are noise at a few pushes a minute per node; pushes log themselves."""

    def _send(self, status: int, body: bytes, content_type: str,
              headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(data, default=str).encode(), "application/json", headers)

    def _guard(self, fn: Any, kind: str | None = None) -> None:
        """Answer errors as JSON; a push's outcome is counted (``kind`` given)."""
        metrics = self.server.collector.metrics
        try:
            fn()
        except HTTPError as exc:
            self.close_connection = True  # a refused POST's body may be unread
            self._json(exc.status, {"error": str(exc)}, exc.headers)
            if kind is not None:
                metrics.push(kind, metrics.result_of(exc.status))
        except StoreError as exc:
            log.error("store error", error=str(exc))
            self._json(503, {"error": f"store unavailable: {exc}"})
            if kind is not None:
                metrics.push(kind, "error")

    def _authenticated_cluster(self, challenge: str) -> str:
        collector = self.server.collector
        cluster, token = auth.credentials(self.headers)
        refused, tokens, theirs = collector.tokens.judge(cluster, token)  # one store read
        if not tokens:
            raise HTTPError(401, "this collector has no token yet, so it takes no push: "
                                 + collector.how_to_add(cluster),
                            {"WWW-Authenticate": challenge})
        if refused == 401:
            raise HTTPError(401, "missing credentials: send Authorization: Bearer <token> and "
                                 f"{CLUSTER_HEADER}: <cluster>",
                            {"WWW-Authenticate": challenge})
        if refused == 403:
            hint = ("" if theirs else
                    f"; the collector has no token for cluster {cluster!r}: "
                    + collector.how_to_add(cluster))
            raise HTTPError(403, f"bad token for cluster {cluster!r}{hint}")
        assert cluster is not None
        return cluster

    # ------------------------------------------------------------------ methods

    def do_POST(self) -> None:  # noqa: N802 (stdlib name)
        kind = urlsplit(self.path).path.rstrip("/").removeprefix(PUSH_PATH)
        self._guard(self._post, kind if kind in KINDS else "unknown")

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        self._guard(self._get)

    def do_HEAD(self) -> None:  # noqa: N802 (stdlib name)
        self._guard(self._get)

    def _post(self) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        if not path.startswith(PUSH_PATH):
            raise HTTPError(404, f"no such endpoint: POST {path}")
        kind = path[len(PUSH_PATH):]
        if kind not in KINDS:
            raise HTTPError(404, f"unknown push kind {kind!r}; kinds: {', '.join(KINDS)}")
        cluster = self._authenticated_cluster('Bearer realm="orchestrator-collector"')
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise HTTPError(411, "Content-Length required")
        if int(length) > MAX_BODY:
            self.close_connection = True
            raise HTTPError(413, f"push larger than {MAX_BODY} bytes")
        raw = self.rfile.read(int(length))
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HTTPError(400, f"body is not JSON: {exc}") from None
        received_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        try:
            push = parse_push(cluster, kind, body, received_at)
        except PushError as exc:
            raise HTTPError(400, str(exc)) from None
        stored = self.server.collector.store.ingest(push)
        log.info("push", cluster=cluster, node=push.node, kind=kind, seq=push.seq,
                 items=len(push.rows), duplicate=not stored)
        self.server.collector.metrics.push(kind, "stored" if stored else "duplicate")
        self._json(200, {"kind": kind, "node": push.node, "seq": push.seq,
                         "accepted": len(push.rows) if stored else 0, "duplicate": not stored})

    def _get(self) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = parse_qs(url.query)
        if path == "/healthz":
            self._json(200, {"ok": True})
            return
        if path == "/metrics":  # open like /healthz: counts and sizes, no pushed content
            body, ctype = self.server.collector.metrics.exposition(self.headers.get("Accept"))
            self._send(200, body, ctype)
            return
        collector = self.server.collector
        store = collector.store
        cluster = query.get("cluster", [None])[-1]
        if collector.private_reads:
            mine = self._authenticated_cluster('Basic realm="orchestrator-collector"')
            if cluster not in (None, mine):
                raise HTTPError(403, f"your token is for cluster {mine!r}, not {cluster!r}")
            cluster = mine
        service = query.get("service", [None])[-1]
        node = query.get("node", [None])[-1]
        if path == "/":
            clusters = [cluster] if cluster else store.clusters()
            limit = _int_param(query, "limit", 50)
            status = query.get("status", [None])[-1] or None
            self._send(200, render_page(store, clusters, limit, status).encode(),
                       "text/html; charset=utf-8")
            return
        if path.startswith("/services/"):
            self._service_page(path, cluster, _int_param(query, "limit", 50),
                               query.get("status", [None])[-1] or None)
            return
        routes = {
            "/api/v1/nodes": lambda: store.nodes(cluster),
            "/api/v1/services": lambda: store.services(cluster),
            "/api/v1/instances": lambda: store.instances(cluster, service),
            "/api/v1/runs": lambda: store.runs(cluster, service, _int_param(query, "limit", 100)),
            "/api/v1/compliance": lambda: store.compliance(cluster, node, service),
            "/api/v1/configs": lambda: store.configs(cluster, service),
            "/api/v1/resinfo": lambda: store.resinfo(cluster, service),
            "/api/v1/pushes": lambda: store.pushes(cluster, node, _int_param(query, "limit", 100)),
            "/api/v1/output": lambda: self._output(cluster, query.get("run_id", [None])[-1]),
        }
        if path not in routes:
            raise HTTPError(HTTPStatus.NOT_FOUND, f"no such endpoint: GET {path}")
        self._json(200, routes[path]())

    def _output(self, cluster: str | None, run_id: str | None) -> dict[str, Any]:
        """One run's output (``?cluster=C&run_id=R``), 404 when none was pushed."""
        if not cluster or not run_id:
            raise HTTPError(400, "give cluster and run_id: /api/v1/output?cluster=C&run_id=R")
        found = self.server.collector.store.run_output(cluster, run_id)
        if found is None:
            raise HTTPError(404, f"no output of run {run_id!r} in cluster {cluster!r}")
        return found

    def _service_page(self, path: str, mine: str | None, limit: int,
                      status: str | None) -> None:
        """``/services/<cluster>/<service>``: one service's page (a private reader sees
        only its own cluster's)."""
        from urllib.parse import unquote

        parts = [unquote(p) for p in path.split("/")[2:]]
        if len(parts) != 2 or not all(auth.valid_name(p) for p in parts):
            raise HTTPError(404, f"no such page: {path} (expected /services/CLUSTER/SERVICE)")
        cluster, service = parts
        if self.server.collector.private_reads and cluster != mine:
            raise HTTPError(403, f"your token is for cluster {mine!r}, not {cluster!r}")
        html = render_service_page(self.server.collector.store, cluster, service, limit,
                                   status)
        if html is None:
            raise HTTPError(404, f"cluster {cluster!r} has no service {service!r}")
        self._send(200, html.encode(), "text/html; charset=utf-8")
