"""What a push is, checked once at the door, so every store backend gets clean rows.

A push is one HTTP POST: ``{"node": N, "seq": S, "items": [...]}`` for one kind. Its
idempotency key is ``(cluster, node, kind, seq)``: the node's push client numbers its queued
pushes with a strictly increasing ``seq``, and a redelivered push (same key) is recognised
and ignored as a whole. Rows that hold "the latest state" (node assets, instance status,
config, resinfo, compliance, run records) are also only replaced by a push with a higher
``seq``, so an old push arriving late never overwrites newer facts.

Pure code: no I/O, no clock (``received_at`` is given by the caller).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestrator.push_protocol import KINDS
from orchestrator.runs.record import RunStatus

STATUS_WORDS = frozenset({"up", "down", "warn", "n/a", "undef", "stdby up", "stdby down"})
COMPLIANCE_STATUSES = frozenset({"ok", "nok", "n/a", "error"})
COMPLIANCE_ACTIONS = frozenset({"check", "fix"})
MAX_ITEMS = 10_000
MAX_OUTPUT = 256 * 1024  # characters of a run's output kept (nodes send the last 64 KiB)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:#+-]{0,254}$")


class PushError(ValueError):
    """The push body is malformed: the HTTP layer answers 400 with this one-line message."""


@dataclass(frozen=True)
class Push:
    """One validated push; ``rows`` are plain dicts whose keys are the store's columns."""

    cluster: str
    kind: str
    node: str
    seq: int
    received_at: str
    rows: tuple[dict[str, Any], ...]


def valid_name(value: Any) -> bool:
    return isinstance(value, str) and bool(_NAME.match(value))


def _name(item: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str:
    value = item.get(key)
    if value is None and optional:
        return ""
    if not valid_name(value):
        raise PushError(f"{where}: {key!r} must be a name (letters, digits, _.@:#+-), "
                        f"got {value!r}")
    return value


def _text(item: Mapping[str, Any], key: str, where: str, *, optional: bool = True) -> str | None:
    value = item.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise PushError(f"{where}: {key!r} must be a string, got {type(value).__name__}")
    return value


def _time(item: Mapping[str, Any], key: str, where: str) -> str | None:
    value = _text(item, key, where)
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise PushError(f"{where}: {key!r} is not an ISO 8601 time: {value!r}") from None
    return value


def _object(item: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = item.get(key, {})
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise PushError(f"{where}: {key!r} must be an object")
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _row_nodes(item: Mapping[str, Any], node: str, where: str) -> dict[str, Any]:
    return {"node": _name(item, "node", where, optional=True) or node,
            "asset": _dumps(_object(item, "asset", where))}


def _row_status(item: Mapping[str, Any], node: str, where: str) -> dict[str, Any]:
    avail = item.get("avail")
    if avail not in STATUS_WORDS:
        raise PushError(f"{where}: 'avail' must be one of {sorted(STATUS_WORDS)}, got {avail!r}")
    overall = item.get("overall", avail)
    if overall not in STATUS_WORDS:
        raise PushError(f"{where}: 'overall' must be a status word, got {overall!r}")
    frozen = item.get("frozen", False)
    if not isinstance(frozen, bool):
        raise PushError(f"{where}: 'frozen' must be true or false")
    return {"service": _name(item, "service", where), "node": node, "avail": avail,
            "overall": overall, "frozen": frozen,
            "resources": _dumps(_object(item, "resources", where))}


def _row_config(item: Mapping[str, Any], node: str, where: str) -> dict[str, Any]:
    text = _text(item, "text", where, optional=False) or ""
    return {"service": _name(item, "service", where), "node": node, "text": text,
            "digest": hashlib.sha256(text.encode()).hexdigest()}


def _row_resinfo(item: Mapping[str, Any], node: str, where: str) -> dict[str, Any]:
    value = item.get("value")
    if value is not None and not isinstance(value, str | int | float | bool):
        raise PushError(f"{where}: 'value' must be a string or a number")
    return {"service": _name(item, "service", where), "node": node,
            "rid": _name(item, "rid", where), "key": _name(item, "key", where),
            "value": None if value is None else str(value)}


def _row_runs(item: Mapping[str, Any], node: str, where: str) -> dict[str, Any]:
    status = item.get("status")
    if status not in {str(s) for s in RunStatus}:
        raise PushError(f"{where}: 'status' must be a run status, got {status!r}")
    exit_code = item.get("exit_code")
    if exit_code is not None and (not isinstance(exit_code, int) or isinstance(exit_code, bool)):
        raise PushError(f"{where}: 'exit_code' must be an integer or null")
    output = item.get("output")
    if output is not None and not isinstance(output, str):
        raise PushError(f"{where}: 'output' must be a string or null")
    truncated = bool(item.get("output_truncated")) or (output is not None
                                                        and len(output) > MAX_OUTPUT)
    item = {k: v for k, v in item.items() if k not in ("output", "output_truncated")}
    row = {"run_id": _name(item, "run_id", where), "service": _name(item, "service", where),
           "rid": _name(item, "rid", where), "node": _name(item, "node", where, optional=True)
           or node, "origin": _text(item, "origin", where) or "manual", "status": status,
           "scheduled_at": _time(item, "scheduled_at", where),
           "started_at": _time(item, "started_at", where),
           "ended_at": _time(item, "ended_at", where), "exit_code": exit_code,
           "reason": _text(item, "reason", where)}
    row["record"] = _dumps({**item, **row})  # the whole RunRecord.to_dict(), defaults filled
    # the output tail goes to a table of its own (run lists stay small); None: not sent
    row["output"] = None if output is None else output[-MAX_OUTPUT:]
    row["output_truncated"] = truncated
    return row


def _row_compliance(item: Mapping[str, Any], node: str, where: str) -> dict[str, Any]:
    status = item.get("status")
    if status not in COMPLIANCE_STATUSES:
        raise PushError(f"{where}: 'status' must be one of {sorted(COMPLIANCE_STATUSES)}, "
                        f"got {status!r}")
    action = item.get("action", "check")
    if action not in COMPLIANCE_ACTIONS:
        raise PushError(f"{where}: 'action' must be check or fix, got {action!r}")
    return {"node": node, "service": _name(item, "service", where, optional=True),
            "module": _name(item, "module", where), "status": status, "action": action,
            "detail": _text(item, "detail", where) or "",
            "checked_at": _time(item, "checked_at", where)}


_ROWS = {"nodes": _row_nodes, "status": _row_status, "config": _row_config,
         "resinfo": _row_resinfo, "runs": _row_runs, "compliance": _row_compliance}


def parse_push(cluster: str, kind: str, body: Any, received_at: str) -> Push:
    """Validate a push body; any bad item refuses the whole push (nothing half-written)."""
    if kind not in KINDS:
        raise PushError(f"unknown push kind {kind!r}; kinds: {', '.join(KINDS)}")
    if not isinstance(body, dict):
        raise PushError("body must be a JSON object {\"node\", \"seq\", \"items\"}")
    node = _name(body, "node", "push")
    seq = body.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or seq >= 2**63:
        raise PushError(f"push: 'seq' must be a non-negative integer, got {seq!r}")
    items = body.get("items")
    if not isinstance(items, list):
        raise PushError("push: 'items' must be a list")
    if len(items) > MAX_ITEMS:
        raise PushError(f"push: at most {MAX_ITEMS} items per push, got {len(items)}")
    rows = []
    for i, item in enumerate(items):
        where = f"{kind} item {i}"
        if not isinstance(item, dict):
            raise PushError(f"{where}: must be an object")
        rows.append(_ROWS[kind](item, node, where))
    return Push(cluster, kind, node, seq, received_at, tuple(rows))


def service_view(service: str, cluster: str, instances: Iterable[Mapping[str, Any]]
                 ) -> dict[str, Any]:
    """A failover service seen from its instances (OpenSVC rule: exactly one up = up).

    The active node is the instance that reports ``up`` (the most recently updated one if
    several do, which also makes the service ``warn``).
    """
    insts = sorted(instances, key=lambda r: r["updated_at"], reverse=True)
    up = [r for r in insts if r["avail"] == "up"]
    avail = "up" if len(up) == 1 else "warn" if up else "down"
    if not up and any(r["avail"] == "warn" for r in insts):
        avail = "warn"
    return {
        "cluster": cluster,
        "service": service,
        "avail": avail,
        "active_node": up[0]["node"] if up else None,
        "frozen": any(r["frozen"] for r in insts),
        "updated_at": insts[0]["updated_at"] if insts else None,
        "instances": {r["node"]: {"avail": r["avail"], "overall": r["overall"],
                                  "frozen": r["frozen"], "updated_at": r["updated_at"]}
                      for r in sorted(insts, key=lambda r: r["node"])},
    }
