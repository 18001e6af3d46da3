"""Misfire decisions and duration parsing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from orchestrator.schedule import ScheduleError, parse, parse_duration
from orchestrator.schedule.misfire import decide

EVERY_10 = parse("@10", tz="UTC")
DUE = datetime(2024, 1, 1, 10)


def test_on_time():
    d = decide(EVERY_10, due=DUE, now=DUE)
    assert d.run and d.slot == DUE and d.missed_count == 0
    assert "on time" in d.reason


def test_not_yet_due():
    d = decide(EVERY_10, due=DUE, now=DUE - timedelta(seconds=5))
    assert not d.run and "not due until" in d.reason


def test_once_coalesces_missed_slots_and_says_so():
    d = decide(
        EVERY_10,
        due=DUE,
        now=DUE + timedelta(minutes=35),
        policy="once",
        cause="while no node could run the job",
    )
    assert d.run
    assert d.slot == DUE + timedelta(minutes=30)
    assert d.missed_count == 3
    assert d.missed == (DUE, DUE + timedelta(minutes=10), DUE + timedelta(minutes=20))
    assert d.reason.startswith("missed 3 slots")
    assert "while no node could run the job" in d.reason
    assert "running once" in d.reason and "misfire=once" in d.reason


def test_once_still_runs_beyond_grace():
    d = decide(
        EVERY_10, due=DUE, now=DUE + timedelta(minutes=5), policy="once", grace=timedelta(minutes=1)
    )
    assert d.run and "beyond grace 1m" in d.reason


def test_skip_beyond_grace_does_not_run_but_reports():
    d = decide(
        EVERY_10,
        due=DUE,
        now=DUE + timedelta(minutes=35),
        policy="skip",
        grace=timedelta(minutes=1),
    )
    assert not d.run and d.slot is None
    assert d.missed_count == 4
    assert "skipping (misfire=skip)" in d.reason
    assert "next slot 2024-01-01T10:40:00" in d.reason


def test_skip_within_grace_runs_latest():
    d = decide(
        EVERY_10,
        due=DUE,
        now=DUE + timedelta(minutes=30, seconds=20),
        policy="skip",
        grace=timedelta(minutes=1),
    )
    assert d.run and d.slot == DUE + timedelta(minutes=30)
    assert d.missed_count == 3 and "skipped them" in d.reason


def test_late_within_grace():
    d = decide(
        EVERY_10, due=DUE, now=DUE + timedelta(seconds=3), policy="skip", grace=timedelta(minutes=1)
    )
    assert d.run and "3s late, within grace 1m" in d.reason


def test_many_slots_are_counted_and_listing_is_bounded():
    s = parse("@1s", tz="UTC")
    d = decide(s, due=DUE, now=DUE + timedelta(hours=1), limit=500, listed=5)
    assert d.truncated and d.missed_count == 499 and len(d.missed) == 5
    assert "at least 499 slots" in d.reason


def test_bad_policy():
    with pytest.raises(ValueError, match="invalid misfire policy 'sometimes'"):
        decide(EVERY_10, due=DUE, now=DUE, policy="sometimes")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), ("2d", 172800), ("1w", 604800), ("2D", 172800)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("30", "a unit is required"),
        ("1.5h", "'1.5h'"),
        ("1h30", "'1h30'"),
        ("", "''"),
        ("-5m", "'-5m'"),
    ],
)
def test_parse_duration_errors(text, fragment):
    with pytest.raises(ScheduleError) as info:
        parse_duration(text)
    assert "invalid duration" in str(info.value) and fragment in str(info.value)
