"""The znode layout and its encodings, in one place (see docs/coordination.md).

Every path is relative to the cluster chroot ``[<hosts chroot>]/orchestrator/<cluster>``.
Names are checked rather than escaped, so a path in ZooKeeper reads like the config.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from orchestrator.coordination.errors import CoordinationError, InvalidName
from orchestrator.coordination.states import Claim, Lease

CLUSTER_BASE = "/orchestrator"
NODES = "/nodes"
CONFIGS = "/configs"
SERVICES = "/services"
LAYOUT = (NODES, CONFIGS, SERVICES)
RUN_PREFIX = "run-"
RUN_SLOTS = "/run-slots"  # per node: the persistent max_parallel slots its runs hold

_NAME = re.compile(r"^[A-Za-z0-9_.:@+#=,~-]{1,200}$")


def check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise InvalidName(
            f"invalid {kind} name {name!r}: use letters, digits and _ . : @ + # = , ~ -"
        )
    return name


def cluster_root(cluster: str) -> str:
    return f"{CLUSTER_BASE}/{check_name('cluster', cluster)}"


def node_path(node: str) -> str:
    return f"{NODES}/{check_name('node', node)}"


def config_path(svc: str) -> str:
    return f"{CONFIGS}/{check_name('service', svc)}"


def service_path(svc: str) -> str:
    return f"{SERVICES}/{check_name('service', svc)}"


def lease_path(svc: str) -> str:
    return f"{service_path(svc)}/lease"


def epoch_path(svc: str) -> str:
    return f"{service_path(svc)}/epoch"


def job_path(svc: str, job: str, node: str | None = None) -> str:
    base = f"{service_path(svc)}/jobs/{check_name('job', job)}"
    return base if node is None else f"{base}/nodes/{check_name('node', node)}"


def jobs_path(svc: str) -> str:
    return f"{service_path(svc)}/jobs"


def claims_path(svc: str, job: str, node: str | None = None) -> str:
    return f"{job_path(svc, job, node)}/claims"


def claim_path(svc: str, job: str, slot: str, node: str | None = None) -> str:
    return f"{claims_path(svc, job, node)}/{check_name('slot', slot)}"


def job_state_path(svc: str, job: str, node: str | None = None) -> str:
    return f"{job_path(svc, job, node)}/state"


def runs_path(svc: str, job: str) -> str:
    return f"{job_path(svc, job)}/runs"


def node_slots_path(node: str) -> str:
    return f"{RUN_SLOTS}/{check_name('node', node)}"


def slot_entry_path(node: str, slot_path: str) -> str:
    """The node's index entry of a persistent run slot: named by a hash of the slot's path
    (a slot path holds '/', a znode name cannot), so the entry is found again from the path."""
    digest = hashlib.sha1(slot_path.encode()).hexdigest()
    return f"{node_slots_path(node)}/{digest}"


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
