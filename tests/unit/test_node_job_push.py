"""A node job's sentence about its push: a flush that stopped on no error delivered ours,
even when another job queued more meanwhile (the suite saw 'queued for the collector
(None)' once node jobs ran side by side)."""

from orchestrator.jobs.node_kinds import _where
from orchestrator.push import FlushResult


def test_a_push_delivered_while_others_were_queued_says_pushed():
    assert _where(FlushResult(delivered=1, pending=1)) == "pushed to the collector"


def test_a_push_left_queued_says_why():
    assert _where(FlushResult(pending=2, error="connection refused")) == (
        "queued for the collector (connection refused)")
