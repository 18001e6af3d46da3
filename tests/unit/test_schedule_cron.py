"""Cron kind: detection, 5/6 fields (seconds last), macros, t >= now and t > last."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from croniter import croniter

from orchestrator.schedule import ScheduleError, parse


@pytest.mark.parametrize(
    ("expr", "kind"),
    [
        ("*/5 * * * *", "cron"),
        ("0 9 * * mon-fri", "cron"),
        ("0 9 * * 1-5 30", "cron"),
        ("@daily", "cron"),
        ("@HOURLY", "cron"),
        ("@midnight", "cron"),
        ("@annually", "cron"),
        ("@10", "window"),
        ("@1h", "window"),
        ("* * * *%1", "window"),
        ("09:00 mon 1 jan", "window"),
        ("anacron 1d", "anacron"),
        (["0 9 * * *"], "window"),  # lists are always windows (and this one is invalid)
    ],
)
def test_kind_detection(expr, kind):
    if isinstance(expr, list):
        with pytest.raises(ScheduleError):
            parse(expr, tz="UTC")
        return
    assert parse(expr, tz="UTC").kind == kind


def test_next_is_at_or_after_now_and_after_last():
    s = parse("*/15 * * * *", tz="UTC")
    now = datetime(2024, 1, 1, 10, 15)
    assert s.next_run(now, None) == now
    assert s.is_due(now, None)
    assert s.next_run(now, now) == datetime(2024, 1, 1, 10, 30)
    assert not s.is_due(now, now)
    assert s.next_run(datetime(2024, 1, 1, 10, 16), None) == datetime(2024, 1, 1, 10, 30)


def test_six_fields_seconds_last():
    s = parse("0 9 * * * 30", tz="UTC")
    assert s.next_run(datetime(2024, 1, 1, 8), None) == datetime(2024, 1, 1, 9, 0, 30)


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@hourly", datetime(2024, 1, 1, 11)),
        ("@daily", datetime(2024, 1, 2)),
        ("@midnight", datetime(2024, 1, 2)),
        ("@weekly", datetime(2024, 1, 7)),
        ("@monthly", datetime(2024, 2, 1)),
        ("@yearly", datetime(2025, 1, 1)),
    ],
)
def test_macros(macro, expected):
    assert parse(macro, tz="UTC").next_run(datetime(2024, 1, 1, 10, 30), None) == expected


def test_same_as_croniter():
    expr = "7,37 */3 1-20 * mon-fri"
    s = parse(expr, tz="UTC")
    base = datetime(2024, 5, 17, 13, 0)
    it = croniter(expr, base)
    cur, last = base, None
    for _ in range(50):
        t = s.next_run(cur, last)
        assert t == it.get_next(datetime)
        cur, last = t, t


@pytest.mark.parametrize("expr", ["61 * * * *", "* 25 * * *", "* * * * frx", "1-2-3 * * * *"])
def test_invalid_cron_names_the_expression(expr):
    with pytest.raises(ScheduleError, match=re.escape(f"invalid cron expression '{expr}'")):
        parse(expr, tz="UTC")


def test_impossible_date_gives_none():
    assert parse("0 0 30 2 *", tz="UTC").next_run(datetime(2024, 1, 1), None) is None
