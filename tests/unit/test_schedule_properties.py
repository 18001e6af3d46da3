"""Properties of next_run / is_due over generated expressions, times and zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.schedule import parse

SECOND = timedelta(seconds=1)


def clock(draw_h, draw_m):
    return f"{draw_h}:{draw_m:02d}"


@st.composite
def window_exprs(draw):
    members = []
    for _ in range(draw(st.integers(1, 3))):
        elems = []
        for _ in range(draw(st.integers(1, 2))):
            kind = draw(st.sampled_from(["*", "range", "single", "at"]))
            if kind == "*":
                core = "*"
            elif kind == "single":
                core = clock(draw(st.integers(0, 23)), draw(st.integers(0, 59)))
            elif kind == "at":
                core = ""
            else:
                core = (
                    f"{clock(draw(st.integers(0, 23)), draw(st.integers(0, 59)))}-"
                    f"{clock(draw(st.integers(0, 23)), draw(st.integers(0, 59)))}"
                )
            ival = draw(st.sampled_from(["", "@10", "@1h", "@45s", "@1d", "@0"]))
            if core == "" and not ival:
                ival = "@30"
            elems.append(core + ival)
        fields = [",".join(elems)]
        if draw(st.booleans()):
            fields.append(
                draw(st.sampled_from(["mon-fri", "sat,sun", "fri:last", ":-2", "*", "3"]))
            )
            if draw(st.booleans()):
                fields.append(draw(st.sampled_from(["*", "1-26", "50-2"])))
                if draw(st.booleans()):
                    fields.append(draw(st.sampled_from(["%2", "jan-jun", "nov-feb", "*%1"])))
        excl = members and draw(st.integers(0, 3)) == 0
        members.append(("!" if excl else "") + " ".join(fields))
    return members


instants = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)
lags = st.one_of(st.none(), st.integers(0, 3 * 86400))
zones = st.sampled_from(["UTC", "America/New_York", "Europe/Paris", "Australia/Lord_Howe"])  # = ZONES
crons = st.sampled_from(
    [
        "*/5 * * * *",
        "0 9 * * mon-fri",
        "30 2 * * *",
        "15 1 1 * *",
        "0 0 * * 0 30",
        "@hourly",
        "@weekly",
    ]
)
anacrons = st.sampled_from(
    ["anacron 1d", "anacron 7d 15m", "anacron @monthly 10m", "anacron @daily"]
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _last(now, lag):
    return None if lag is None else now - timedelta(seconds=lag)


def _transitions(tz):
    """The wall times (naive, local) at which ``tz`` changes offset, 2015-2030: where a
    random instant almost never lands, and where the DST policy matters."""
    zone, found = ZoneInfo(tz), []
    day = datetime(2015, 1, 1, tzinfo=UTC)
    while day.year < 2031:
        nxt = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != nxt.astimezone(zone).utcoffset():
            lo, hi = day, nxt  # bisect to the second
            while hi - lo > SECOND:
                mid = lo + SECOND * ((hi - lo) // SECOND // 2)
                if mid.astimezone(zone).utcoffset() == lo.astimezone(zone).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append((hi - SECOND).astimezone(zone).replace(tzinfo=None) + SECOND)
        day = nxt
    return found


ZONES = ["UTC", "America/New_York", "Europe/Paris", "Australia/Lord_Howe"]
TRANSITIONS = {tz: _transitions(tz) for tz in ZONES}


@st.composite
def zoned_instants(draw):
    """(naive wall time, zone): half the time within 3 h of one of the zone's transitions,
    so spring-forward gaps and fall-back folds are drawn in every zone that has them."""
    tz = draw(st.sampled_from(ZONES))
    if TRANSITIONS[tz] and draw(st.booleans()):
        edge = draw(st.sampled_from(TRANSITIONS[tz]))
        return edge + timedelta(seconds=draw(st.integers(-3 * 3600, 3 * 3600))), tz
    return draw(instants), tz


def _exists(wall, tz):
    """Whether a naive wall time exists in ``tz`` (False inside a spring-forward gap)."""
    zone = ZoneInfo(tz)
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def _gap_end(wall, tz):
    """The first existing wall time after one skipped by a spring-forward gap (gaps end on a
    whole minute in these zones)."""
    t = wall.replace(second=0)
    while not _exists(t, tz):
        t += timedelta(minutes=1)
    return t


def test_zoned_instants_reach_gaps_and_folds():
    gaps = {tz for tz in ZONES for edge in TRANSITIONS[tz] if not _exists(edge, tz)}
    assert gaps == {"America/New_York", "Europe/Paris", "Australia/Lord_Howe"}
    assert all(len(TRANSITIONS[tz]) == 32 for tz in gaps) and TRANSITIONS["UTC"] == []


@FAST
@given(window_exprs(), zoned_instants(), lags)
def test_window_next_is_due_and_not_before_now(expr, zoned, lag):
    now, tz = zoned
    sched = parse(expr, tz=tz)
    last = _last(now, lag)
    t = sched.next_run(now, last)
    if t is None:
        assert not sched.is_due(now, last)
        return
    assert t >= now
    assert sched.is_due(t, last)
    if t > now:
        if _exists(now, tz):
            assert not sched.is_due(now, last)
        elif sched.is_due(now, last):
            # now is skipped by a spring-forward gap: what is due in it runs at the gap's end,
            # the first instant that exists
            assert t == _gap_end(now, tz)


@FAST
@given(window_exprs(), instants, lags, st.integers(1, 5000))
def test_window_next_is_monotonic_in_now(expr, now, lag, step):
    sched = parse(expr, tz="UTC")
    last = _last(now, lag)
    a = sched.next_run(now, last)
    b = sched.next_run(now + timedelta(seconds=step), last)
    if a is not None and b is not None:
        assert b >= a
    if b is not None and a is None:
        raise AssertionError("a later search found a run an earlier one missed")


@FAST
@given(window_exprs(), instants, lags, st.text("abcdef/", min_size=1, max_size=8))
def test_splayed_runs_are_allowed_and_inside_the_window(expr, now, lag, key):
    expr = ["~" + m if not m.startswith("!") else m for m in expr]
    sched = parse(expr, tz="UTC", splay_key=key)
    last = _last(now, lag)
    t = sched.next_run(now, last)
    w = sched.window(now, last)
    if w is None:
        assert t is None
    else:
        assert w[0] <= t <= w[1]
        assert sched.is_due(t, last)


@FAST
@given(crons, instants, zones)
def test_cron_equals_croniter_in_fixed_offset_zones(expr, now, tz):
    sched = parse(expr, tz="UTC")
    expected = croniter(expr, now - SECOND).get_next(datetime)
    assert sched.next_run(now, None) == expected
    assert sched.next_run(now, now) == croniter(expr, now).get_next(datetime)


@FAST
@given(st.one_of(crons, anacrons), instants, lags, zones, st.booleans(), st.integers(1, 90000))
def test_any_kind_next_due_monotonic_any_zone(expr, now, lag, tz, aware, step):
    sched = parse(expr, tz=tz)
    zone = ZoneInfo(tz)
    last = _last(now, lag)
    if aware:
        now = now.replace(tzinfo=zone)
        last = last.replace(tzinfo=zone) if last is not None else None
    t = sched.next_run(now, last)
    assert t is not None
    assert t >= now
    assert sched.is_due(t, last)
    later = sched.next_run(now + timedelta(seconds=step), last)
    assert later >= t


@FAST
@given(window_exprs(), instants, lags, zones)
def test_window_aware_results_are_due_and_ordered(expr, now, lag, tz):
    zone = ZoneInfo(tz)
    sched = parse(expr, tz=tz)
    aware_now = now.replace(tzinfo=zone)
    last = _last(now, lag)
    aware_last = last.replace(tzinfo=zone) if last is not None else None
    t = sched.next_run(aware_now, aware_last)
    if t is not None:
        assert t >= aware_now
        assert sched.is_due(t, aware_last)
