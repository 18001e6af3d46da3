"""A real collector process on a real socket (``orchestrator.devtools.collector``, shared with
the cluster tests), and a tiny HTTP helper: no mocks."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

from orchestrator.devtools.collector import SAMPLE_TOKENS as TOKENS
from orchestrator.devtools.collector import CollectorProcess, collector_env

__all__ = ["TOKENS", "CollectorProcess", "collector_env", "get", "http", "push"]

def http(method: str, url: str, body: Any = None, *, cluster: str | None = None,
         token: str | None = None, basic: tuple[str, str] | None = None,
         raw: bytes | None = None) -> tuple[int, Any]:
    """One request; returns (status, decoded JSON or text)."""
    headers = {"Content-Type": "application/json"}
    if cluster:
        headers["X-Cluster"] = cluster
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(basic).encode()).decode()
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, payload, ctype = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, payload, ctype = exc.code, exc.read(), exc.headers
    if "json" in ctype.get("Content-Type", ""):
        return status, json.loads(payload)
    return status, payload.decode()


def get(collector: CollectorProcess, path: str, **kw: Any) -> Any:
    status, data = http("GET", collector.url + path, **kw)
    assert status == 200, (path, status, data)
    return data


def push(collector: CollectorProcess, kind: str, body: Any, cluster: str = "alpha",
         token: str | None = None) -> tuple[int, Any]:
    return http("POST", f"{collector.url}/api/v1/push/{kind}", body, cluster=cluster,
                token=token if token is not None else TOKENS[cluster])
