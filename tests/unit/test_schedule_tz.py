"""Zones and the DST policy: skipped times run at the end of the gap, repeated times once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orchestrator.schedule import ScheduleError, parse

NY = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def runs(sched, start, count):
    """Successive runs, as a daemon would do them (last = previous run)."""
    out, last, cur = [], None, start
    for _ in range(count):
        t = sched.next_run(cur, last)
        out.append(t)
        last, cur = t, t + timedelta(seconds=1)
    return out


@pytest.mark.parametrize(
    ("zone", "expr", "day", "expected_local", "offset_h"),
    [
        (NY, "02:30", datetime(2024, 3, 10), datetime(2024, 3, 10, 3, 0), -4),
        (NY, "30 2 * * *", datetime(2024, 3, 10), datetime(2024, 3, 10, 3, 0), -4),
        (PARIS, "02:30", datetime(2024, 3, 31), datetime(2024, 3, 31, 3, 0), 2),
        (PARIS, "15 2 * * *", datetime(2024, 3, 31), datetime(2024, 3, 31, 3, 0), 2),
        (LORD_HOWE, "02:15", datetime(2024, 10, 6), datetime(2024, 10, 6, 2, 30), 11),
    ],
)
def test_spring_forward_runs_at_the_end_of_the_gap(zone, expr, day, expected_local, offset_h):
    sched = parse(expr, tz=zone.key)
    t = sched.next_run(day.replace(tzinfo=zone), None)
    assert t.replace(tzinfo=None) == expected_local
    assert t.utcoffset() == timedelta(hours=offset_h)
    assert sched.is_due(t, None)
    # ran: the next run is the following day's normal time, not a second catch-up
    again = sched.next_run(t + timedelta(seconds=1), t)
    assert again.date() == (day + timedelta(days=1)).date()
    # naive datetimes get the same wall-clock answer
    assert sched.next_run(day, None) == expected_local
    assert sched.is_due(expected_local, None)


@pytest.mark.parametrize(
    ("zone", "expr", "day", "local"),
    [
        (NY, "30 1 * * *", datetime(2024, 11, 3), datetime(2024, 11, 3, 1, 30)),
        (NY, "01:30", datetime(2024, 11, 3), datetime(2024, 11, 3, 1, 30)),
        (PARIS, "30 2 * * *", datetime(2024, 10, 27), datetime(2024, 10, 27, 2, 30)),
        (LORD_HOWE, "01:45", datetime(2024, 4, 7), datetime(2024, 4, 7, 1, 45)),
    ],
)
def test_fall_back_runs_repeated_time_once(zone, expr, day, local):
    sched = parse(expr, tz=zone.key)
    first = sched.next_run(day.replace(tzinfo=zone), None)
    assert first.replace(tzinfo=None) == local
    assert first.fold == 0
    second_pass = local.replace(tzinfo=zone, fold=1)
    assert second_pass.astimezone(UTC) > first.astimezone(UTC)
    assert not sched.is_due(second_pass, first)
    assert not sched.is_due(second_pass, None)
    nxt = sched.next_run(first + timedelta(seconds=1), first)
    assert nxt.replace(tzinfo=None) == local + timedelta(days=1)
    assert sched.next_run(second_pass, None).replace(tzinfo=None) == local + timedelta(days=1)


def test_interval_jobs_pause_during_the_repeated_hour():
    sched = parse("@10", tz="America/New_York")
    got = runs(sched, datetime(2024, 11, 3, 1, 0, tzinfo=NY), 8)
    local = [t.astimezone(NY) for t in got]
    assert [t.strftime("%H:%M%z") for t in local] == [
        "01:00-0400", "01:10-0400", "01:20-0400", "01:30-0400",
        "01:40-0400", "01:50-0400", "02:00-0500", "02:10-0500",
    ]  # fmt: skip
    utc = [t.astimezone(UTC) for t in got]
    assert utc == sorted(utc)


def test_lord_howe_half_hour_fall_back():
    sched = parse("01:30-01:59@10", tz="Australia/Lord_Howe")
    got = runs(sched, datetime(2024, 4, 7, 0, 0, tzinfo=LORD_HOWE), 4)
    assert [t.strftime("%H:%M%z") for t in got] == [
        "01:30+1100",
        "01:40+1100",
        "01:50+1100",
        "01:30+1030",
    ]
    assert got[-1].date() == datetime(2024, 4, 8).date()


def test_aware_input_in_another_zone_is_honoured_and_returned_in_that_zone():
    sched = parse("09:00-09:10", tz="Europe/Paris")
    now = datetime(2024, 6, 1, 6, 0, tzinfo=UTC)  # 08:00 in Paris
    t = sched.next_run(now, None)
    assert t.tzinfo is UTC
    assert t == datetime(2024, 6, 1, 7, 0, tzinfo=UTC)
    assert sched.is_due(datetime(2024, 6, 1, 7, 5, tzinfo=UTC))


def test_naive_in_naive_out():
    t = parse("09:00", tz="Europe/Paris").next_run(datetime(2024, 6, 1, 8), None)
    assert t == datetime(2024, 6, 1, 9) and t.tzinfo is None


def test_tzinfo_objects_and_unknown_zone():
    assert parse("09:00", tz=PARIS).zone is PARIS
    with pytest.raises(ScheduleError, match="unknown time zone 'Mars/Olympus'"):
        parse("09:00", tz="Mars/Olympus")


def test_default_zone_is_local_and_dst_aware():
    sched = parse("09:00")
    assert sched.zone.utcoffset(datetime(2024, 1, 1)) is not None
