"""The not-run reasons of ``orchestrator_job_not_run_total``: every sentence the code writes
for a skipped, refused or missed slot maps to a word of the fixed set, never ``other``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.daemon.entries import Entry
from orchestrator.metrics.reasons import REASONS, not_run_reason
from orchestrator.runs import RunRecord, RunStatus
from orchestrator.schedule import parse
from orchestrator.schedule.misfire import decide

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
EVERY_MINUTE = parse("@1m", tz="UTC")
SERVICE_CAUSE = Entry.__dataclass_fields__["cause"].default
NODE_CAUSE = "while the node agent was down or busy"  # the scheduler's, for node jobs


def record(status: RunStatus, reason: str | None) -> RunRecord:
    return RunRecord("r", "svc", "task#0", "n1", "scheduler", status, reason=reason)


def misfire(policy: str, grace: timedelta | None, cause: str) -> str:
    return decide(EVERY_MINUTE, due=T0, now=T0 + timedelta(minutes=5, seconds=40),
                  policy=policy, grace=grace, cause=cause).reason


@pytest.mark.parametrize("status, sentence, expected", [
    (RunStatus.SKIPPED, "requirements not met: app#0 is down, wanted up", "requirements_unmet"),
    (RunStatus.SKIPPED, "skipped: no collector configured ([collector] url and token in "
                        "node.conf)", "not_configured"),
    (RunStatus.SKIPPED, "skipped: no compliance module in /var/lib/x/modules",
     "not_configured"),
    (RunStatus.REFUSED, "already running (max_parallel=1: 20260101T000000000000Z-aaaaaa)",
     "max_parallel"),
    (RunStatus.REFUSED, "the node's fence keeper does not answer: it could not stop this run "
                        "if the agent died", "keeper_unreachable"),
    (RunStatus.REFUSED, "could not take the run slot: connection lost", "run_slot_unavailable"),
    (RunStatus.REFUSED, "user 'nobody2' does not exist", "cannot_start"),
    (RunStatus.MISSED, "claimed by n1 as the ZooKeeper connection was lost, before the run "
                       "could start: not run (a slot runs at most once)", "claim_lost"),
    (RunStatus.MISSED, misfire("once", None, SERVICE_CAUSE), "no_active_node"),
    (RunStatus.MISSED, misfire("skip", timedelta(minutes=1), SERVICE_CAUSE), "no_active_node"),
    (RunStatus.MISSED, misfire("skip", timedelta(seconds=10), SERVICE_CAUSE), "beyond_grace"),
    (RunStatus.MISSED, misfire("once", timedelta(seconds=10), SERVICE_CAUSE), "no_active_node"),
    (RunStatus.MISSED, misfire("once", None, NODE_CAUSE), "agent_down"),
    (RunStatus.MISSED, misfire("skip", timedelta(seconds=10), NODE_CAUSE), "beyond_grace"),
])
def test_each_sentence_has_its_reason(status: RunStatus, sentence: str, expected: str) -> None:
    assert expected in REASONS
    assert not_run_reason(record(status, sentence)) == expected, sentence


def test_runs_have_no_not_run_reason_and_unknown_sentences_are_other() -> None:
    for status in (RunStatus.OK, RunStatus.FAILED, RunStatus.TIMEOUT, RunStatus.INTERRUPTED,
                   RunStatus.ABORTED, RunStatus.RUNNING):
        assert not_run_reason(record(status, "whatever")) is None
    assert not_run_reason(record(RunStatus.SKIPPED, "a new kind of skip")) == "other"
    assert not_run_reason(record(RunStatus.MISSED, None)) == "other"
