"""Anacron kind: once per period, DELAY after it becomes due, pure in (now, last)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from orchestrator.schedule import ScheduleError, parse


def test_duration_period_counts_from_last_run():
    s = parse("anacron 1d", tz="UTC")
    last = datetime(2024, 1, 1, 10)
    assert s.next_run(datetime(2024, 1, 1, 12), last) == datetime(2024, 1, 2, 10)
    assert not s.is_due(datetime(2024, 1, 2, 9, 59), last)
    assert s.is_due(datetime(2024, 1, 2, 10), last)
    # overdue after downtime: due now, once
    assert s.next_run(datetime(2024, 1, 9), last) == datetime(2024, 1, 9)


def test_delay_is_added_after_the_period():
    s = parse("anacron 7d 15m", tz="UTC")
    last = datetime(2024, 1, 1, 10)
    assert s.next_run(datetime(2024, 1, 2), last) == datetime(2024, 1, 8, 10, 15)


def test_never_ran_is_due_immediately_for_durations():
    s = parse("anacron 1d 15m", tz="UTC")
    now = datetime(2024, 1, 1, 10)
    assert s.next_run(now, None) == now
    assert s.is_due(now, None)


def test_calendar_month_with_delay():
    s = parse("anacron @monthly 10m", tz="UTC")
    # ran this month: next month + delay
    assert s.next_run(datetime(2024, 6, 15), datetime(2024, 6, 1, 0, 10)) == datetime(
        2024, 7, 1, 0, 10
    )
    # last run in a previous month: due now (the month start + delay has passed)
    assert s.next_run(datetime(2024, 6, 15), datetime(2024, 5, 31, 23)) == datetime(2024, 6, 15)
    # never ran, early in the month: due at the month start + delay
    assert s.next_run(datetime(2024, 6, 1, 0, 5), None) == datetime(2024, 6, 1, 0, 10)
    # December rolls over to January
    assert s.next_run(datetime(2024, 12, 5), datetime(2024, 12, 1, 0, 10)) == datetime(
        2025, 1, 1, 0, 10
    )


@pytest.mark.parametrize(
    ("period", "now", "expected"),
    [
        ("@daily", datetime(2024, 1, 3, 12), datetime(2024, 1, 4)),
        ("@weekly", datetime(2024, 1, 3, 12), datetime(2024, 1, 8)),  # ISO week: Monday
        ("@yearly", datetime(2024, 1, 3, 12), datetime(2025, 1, 1)),
        ("@annually", datetime(2024, 1, 3, 12), datetime(2025, 1, 1)),
    ],
)
def test_calendar_periods(period, now, expected):
    s = parse(f"anacron {period}", tz="UTC")
    assert s.next_run(now, now - timedelta(hours=1)) == expected


def test_pure_as_the_clock_advances():
    s = parse("anacron @daily 1h", tz="UTC")
    last = datetime(2024, 1, 1, 1)
    targets = {
        s.next_run(datetime(2024, 1, 1, 2) + timedelta(minutes=m), last)
        for m in range(0, 23 * 60, 7)
    }
    assert targets == {datetime(2024, 1, 2, 1)}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("anacron", "expected 'anacron PERIOD [DELAY]'"),
        ("anacron 1d 1m 1s", "expected 'anacron PERIOD [DELAY]'"),
        ("anacron fortnight", "invalid period 'fortnight'"),
        ("anacron @hourly", "invalid period '@hourly'"),
        ("anacron 0d", "invalid period '0d'"),
        ("anacron 1d 15", "invalid delay '15'"),
        ("anacron @daily 1d", "invalid delay '1d'"),
        ("anacron 1h 2h", "invalid delay '2h'"),
    ],
)
def test_errors(text, fragment):
    with pytest.raises(ScheduleError) as info:
        parse(text, tz="UTC")
    assert fragment in str(info.value)
