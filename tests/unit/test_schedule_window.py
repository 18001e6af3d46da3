"""Window grammar: strict parsing with precise errors, the per-instant rule, ``~`` splay."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.schedule import ScheduleError, Unscheduled, is_unscheduled, parse
from orchestrator.schedule.window_eval import from_abs, to_abs

UTC = "UTC"


def nxt(expr, now, last=None, **kw):
    return parse(expr, tz=UTC, **kw).next_run(now, last)


@pytest.mark.parametrize(
    ("expr", "fragments"),
    [
        ("23:00 freday", ["invalid day 'freday'", "days field", "'23:00 freday'"]),
        ("* * * junuary", ["invalid month 'junuary'", "months field"]),
        ("14-15", ["invalid time '14'", "timeranges field"]),
        ("25:00", ["invalid time '25:00'", "out of range"]),
        ("09:60", ["invalid time '09:60'"]),
        ("12:6-12:26", ["invalid time '12:6'"]),
        ("09:00:61", ["invalid time '09:00:61'"]),
        ("@1hm", ["invalid interval '1hm'"]),
        ("@1.5h", ["invalid interval '1.5h'"]),
        ("@1h30", ["invalid interval '1h30'"]),
        ("@-5", ["invalid interval '-5'"]),
        ("@", ["invalid interval ''"]),
        ("*@1@2", ["more than one '@'"]),
        ("* :sixth", ["invalid day of month 'sixth'"]),
        ("* :First", ["invalid day of month 'First'"]),
        ("* :0", ["invalid day of month '0'"]),
        ("* :32", ["invalid day of month '32'"]),
        ("* mon:", ["nothing after ':'"]),
        ("* mon:1:2", ["more than one ':'"]),
        ("* 0", ["invalid day '0'"]),
        ("* 8", ["invalid day '8'"]),
        ("* jan", ["invalid day 'jan'", "days field"]),
        ("* mon--tue", ["invalid day range 'mon--tue'"]),
        ("* mon,,tue", ["empty item", "days field"]),
        ("13:00,,17:00", ["empty item", "timeranges field"]),
        ("* * 54", ["invalid week '54'", "weeks field"]),
        ("* * 0", ["invalid week '0'"]),
        ("* * +5", ["invalid week '+5'"]),
        ("* * *,5", ["invalid week '*'"]),
        ("* * mon-wed", ["invalid week 'mon'"]),
        ("* * * 13", ["invalid month '13'"]),
        ("* * * mon", ["invalid month 'mon'"]),
        ("* * * %0", ["invalid month modulo '%0'"]),
        ("* * * %x", ["invalid month modulo '%x'"]),
        ("* * * jan%", ["invalid month modulo 'jan%'"]),
        ("* * * %2+", ["invalid month modulo '%2+'"]),
        ("* * * %2%3", ["more than one '%'"]),
        ("* * * 1-2-3", ["invalid month range '1-2-3'"]),
        ("09:00 * * * extra", ["too many fields (5)"]),
        ("!", ["empty expression"]),
        ("5", ["not a JSON int"]),
        ("true", ["not a JSON bool"]),
        (["*", ""], ["empty expression"]),
        (["09:00-09:20", "23:00 freday"], ["invalid day 'freday'"]),
    ],
)
def test_errors_name_field_and_token(expr, fragments):
    with pytest.raises(ScheduleError) as info:
        parse(expr, tz=UTC)
    assert not isinstance(info.value, Unscheduled)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize("expr", ["", "@0", "null", "[]", [], None, "  ", '"@0"'])
def test_no_schedule(expr):
    assert is_unscheduled(expr)
    with pytest.raises(Unscheduled, match="no schedule"):
        parse(expr, tz=UTC)


@pytest.mark.parametrize("expr", ["*@0", "@0 mon", ["@0"], "@10", "23:00 freday"])
def test_not_unscheduled(expr):
    assert not is_unscheduled(expr)


def test_error_is_value_error_with_usage_exit_code():
    with pytest.raises(ValueError) as info:
        parse("23:00 freday")
    assert info.value.exit_code == 2


def test_lenient_forms_accepted_where_meaningful():
    assert parse("* * * jan,*", tz=UTC).next_run(datetime(2020, 5, 1), None) == datetime(2020, 5, 1)
    assert parse(" ! 09:00   mon ", tz=UTC).members[0].exclude


def test_list_and_json_list_are_the_same():
    a = parse(["09:00-10:00@10", "!09:30-09:40"], tz=UTC)
    b = parse('["09:00-10:00@10", "!09:30-09:40"]', tz=UTC)
    now = datetime(2020, 2, 3, 9, 35)
    assert a.next_run(now, None) == b.next_run(now, None) == datetime(2020, 2, 3, 9, 40, 1)


def test_interval_forms():
    assert parse("@0030", tz=UTC).members[0].elements[0].interval == 1800
    assert parse("@010", tz=UTC).members[0].elements[0].interval == 600
    assert parse("@1h30m", tz=UTC).members[0].elements[0].interval == 5400
    assert parse("@2D", tz=UTC).members[0].elements[0].interval == 172800
    assert parse("@1d1s", tz=UTC).members[0].elements[0].interval == 86401


def test_star_stops_at_2359_but_interval_star_does_not():
    assert not parse("*", tz=UTC).is_due(datetime(2020, 1, 1, 23, 59, 30))
    assert parse("*@10", tz=UTC).is_due(datetime(2020, 1, 1, 23, 59, 30))


def test_wrapping_window_tests_its_own_date():
    s = parse("22:00-02:00 fri", tz=UTC)
    assert s.is_due(datetime(2020, 1, 3, 1, 0))  # Friday early morning
    assert not s.is_due(datetime(2020, 1, 4, 1, 0))  # Saturday 01:00
    assert s.is_due(datetime(2020, 1, 3, 23, 0))


def test_monthday_is_not_nth_weekday():
    assert nxt("* fri:last", datetime(2020, 2, 1)) == datetime(2020, 7, 31)
    assert nxt("* :-31", datetime(2020, 2, 1)) == datetime(2020, 3, 1)


def test_iso_week_number_of_the_date():
    assert parse("* * 1", tz=UTC).is_due(datetime(2019, 12, 30, 10))
    assert parse("* * 53", tz=UTC).is_due(datetime(2021, 1, 1, 10))


def test_month_modulo():
    assert nxt("* * * %2+1", datetime(2020, 2, 10)) == datetime(2020, 3, 1)
    assert nxt("* * * jan-feb%2", datetime(2020, 1, 10)) == datetime(2020, 2, 1)
    assert nxt("* * * %2,jan", datetime(2021, 1, 10)) == datetime(2021, 1, 10)


def test_horizon_is_1096_days():
    s = parse("00:00-23:59:59 mon:31 * 11-5", tz=UTC)
    assert s.next_run(datetime(2016, 1, 10), None) == datetime(2018, 12, 31)
    assert parse("* :30 * feb", tz=UTC).next_run(datetime(2020, 1, 1), None) is None


def test_only_exclusions_never_run():
    assert nxt("!09:00-10:00", datetime(2020, 1, 1)) is None


def test_single_time_235959_wraps_to_midnight():
    s = parse("23:59:59", tz=UTC)
    assert s.is_due(datetime(2020, 1, 1, 23, 59, 59))
    assert s.next_run(datetime(2020, 1, 1, 12), None) == datetime(2020, 1, 1, 23, 59, 59)


def test_microseconds_use_the_containing_second():
    s = parse("09:00", tz=UTC)
    now = datetime(2020, 1, 1, 9, 0, 1, 500000)
    assert s.is_due(now)
    assert s.next_run(now, None) == now
    later = datetime(2020, 1, 1, 9, 0, 2, 1)
    assert s.next_run(later, None) == datetime(2020, 1, 2, 9, 0)


@pytest.mark.parametrize(
    ("expr", "now", "last"),
    [
        ("10:00-12:00@30,14:00-15:00@60", "2020-01-13T11:50", "2020-01-13T11:40"),
        (["!10:00-11:00", "*@10"], "2020-01-15T10:30", None),
        ("22:00-02:00@45 fri,sun", "2020-01-03T01:30", "2020-01-03T01:00"),
        (["*@7", "!* mon-sun", "!23:59:30-00:00:10"], "2020-03-01T12:00", None),
        ("09:20-09:00 * * %3", "2020-02-27T09:09", "2020-02-27T09:09"),
    ],
)
def test_next_agrees_with_a_second_by_second_scan(expr, now, last):
    """Brute force over one day: the candidate search misses no allowed instant."""
    sched = parse(expr, tz=UTC)
    start = to_abs(datetime.fromisoformat(now))
    last_abs = to_abs(datetime.fromisoformat(last)) if last else None
    expected = next(
        (t for t in range(start, start + 86400 + 1) if sched.rule.allowed(t, last_abs)), None
    )
    assert sched.rule.next_allowed(start, last_abs, horizon_days=1) == expected


def test_splay_is_deterministic_and_stays_in_the_window():
    now = datetime(2020, 1, 1, 0, 0)
    a = parse("~00:00-06:00", tz=UTC, splay_key="svc/compliance/n1")
    b = parse("~00:00-06:00", tz=UTC, splay_key="svc/compliance/n1")
    c = parse("~00:00-06:00", tz=UTC, splay_key="svc/compliance/n2")
    ta, tb, tc = a.next_run(now, None), b.next_run(now, None), c.next_run(now, None)
    assert ta == tb
    assert ta != tc
    for t in (ta, tc):
        assert now <= t <= datetime(2020, 1, 1, 6, 0)
    # the target does not move while the clock advances towards it
    assert a.next_run(now.replace(hour=0, minute=1), None) == ta
    # once past the target, it runs now; after a run, it waits for the next occurrence
    late = datetime(2020, 1, 1, 5, 59)
    assert a.next_run(late, None) == max(late, ta)
    assert a.next_run(ta, ta).date() == datetime(2020, 1, 2).date()
    # without a key, no splay: the earliest instant
    assert parse("~00:00-06:00", tz=UTC).next_run(now, None) == now


def test_splay_respects_exclusion_cut():
    s = parse(["~00:00-06:00", "!00:10-23:00"], tz=UTC, splay_key="k")
    for key in ("a", "b", "c", "d"):
        t = parse(["~00:00-06:00", "!00:10-23:00"], tz=UTC, splay_key=key).next_run(
            datetime(2020, 1, 1), None
        )
        assert datetime(2020, 1, 1) <= t <= datetime(2020, 1, 1, 0, 9, 59)
    assert s.window(datetime(2020, 1, 1), None)[1] == datetime(2020, 1, 1, 0, 9, 59)


def test_abs_round_trip():
    dt = datetime(2024, 2, 29, 23, 59, 59)
    assert from_abs(to_abs(dt)) == dt


def test_parse_is_cached():
    assert parse("09:00-10:00@10 mon-fri", tz=UTC) is parse("09:00-10:00@10 mon-fri", tz=UTC)
