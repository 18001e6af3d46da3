"""What the znodes hold: JSON encodings and the documents of leases and claims (the paths
are in ``layout``). Pure: both stores (ZooKeeper and in memory) use them."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.coordination.errors import CoordinationError
from orchestrator.coordination.states import Claim, Lease


def encode(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def decode(data: bytes | None, path: str) -> Any:
    if not data:
        return None
    try:
        return json.loads(data.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CoordinationError(f"corrupt JSON in znode {path}: {exc}") from exc


def lease_from(svc: str, data: bytes | None, path: str) -> Lease | None:
    doc = decode(data, path)
    if not isinstance(doc, dict):
        return None
    return Lease(
        svc, str(doc.get("node")), int(doc.get("epoch", 0)), float(doc.get("acquired_at", 0))
    )


def claim_from(data: bytes | None, path: str) -> Claim | None:
    doc = decode(data, path)
    if not isinstance(doc, dict):
        return None
    return Claim(
        svc=doc["svc"],
        job=doc["job"],
        slot=doc["slot"],
        node=doc["node"],
        epoch=doc.get("epoch"),
        claimed_at=float(doc.get("claimed_at", 0)),
        node_scoped=bool(doc.get("node_scoped", False)),
        payload=doc.get("payload") or {},
    )


def claim_doc(claim: Claim) -> dict[str, Any]:
    return {
        "svc": claim.svc,
        "job": claim.job,
        "slot": claim.slot,
        "node": claim.node,
        "epoch": claim.epoch,
        "claimed_at": claim.claimed_at,
        "node_scoped": claim.node_scoped,
        "payload": claim.payload,
    }
