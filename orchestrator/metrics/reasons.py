"""Why a slot did not run, as one word of a fixed set: the ``reason`` label of
``orchestrator_job_not_run_total``.

A run record that never started (skipped, refused, missed) says why in a sentence written
where the decision was taken; a label must come from a short, stable list, so the sentence
is matched here to one of ``REASONS``. A sentence nothing matches counts as ``other``: a
decision that wants a word of its own (tests/unit/test_metrics_reasons.py lists every
sentence the code writes today).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REASONS: Mapping[str, str] = {
    "requirements_unmet": "skipped: the task's run_requires were not met when its slot came",
    "not_configured": "skipped: a node job with nothing to do here (no collector, no "
                      "compliance module)",
    "max_parallel": "refused: max_parallel runs of the task were running already",
    "keeper_unreachable": "refused: the node's fence keeper did not answer, so it could not "
                          "have stopped the run",
    "run_slot_unavailable": "refused: the run slot could not be taken (ZooKeeper lost, disk "
                            "full)",
    "cannot_start": "refused: the command could not start (unknown user or group, missing "
                    "executable, impossible limits)",
    "no_active_node": "missed: the slot passed while no node could run the job (failover, "
                      "service down, ZooKeeper out of reach)",
    "agent_down": "missed: a node job's slot passed while the node agent was down or busy",
    "beyond_grace": "missed: misfire = skip, and the slot was later than misfire_grace",
    "claim_lost": "missed: the slot was claimed as the ZooKeeper connection was lost, and is "
                  "never run twice",
    "other": "none of the above (a sentence this table does not know yet)",
}

# (status, words the reason holds) -> reason, first match wins
_RULES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("skipped", ("requirements not met",), "requirements_unmet"),
    ("skipped", ("no collector configured",), "not_configured"),
    ("skipped", ("no compliance module",), "not_configured"),
    ("refused", ("max_parallel",), "max_parallel"),
    ("refused", ("fence keeper",), "keeper_unreachable"),
    ("refused", ("could not take the run slot",), "run_slot_unavailable"),
    ("refused", ("requirements not met",), "requirements_unmet"),
    ("missed", ("as the zookeeper connection was lost",), "claim_lost"),
    ("missed", ("beyond grace", "misfire=skip"), "beyond_grace"),
    ("missed", ("while the node agent was down",), "agent_down"),
    ("missed", ("while no node could run",), "no_active_node"),
)


def not_run_reason(record: Any) -> str | None:
    """The reason label of a record that never ran; None for a run (it started)."""
    status = str(record.status)
    if status not in ("skipped", "refused", "missed"):
        return None
    text = (record.reason or "").lower()
    for wanted, words, reason in _RULES:
        if status == wanted and all(w in text for w in words):
            return reason
    return "cannot_start" if status == "refused" else "other"
