"""Keyword value converters."""

from __future__ import annotations

import pytest

from orchestrator.config import types as t


@pytest.mark.parametrize("text, value", [("30", 30.0), ("1.5", 1.5), ("30s", 30.0),
                                         ("5m", 300.0), ("1h30m", 5400.0), ("2d", 172800.0)])
def test_duration(text, value):
    assert t.to_duration(text) == value


@pytest.mark.parametrize("text", ["", "soon", "5x", "m5", "1h 30m"])
def test_bad_duration(text):
    with pytest.raises(ValueError):
        t.to_duration(text)


def test_bool_and_umask_and_lists():
    assert t.to_bool("Yes") is True and t.to_bool("off") is False
    with pytest.raises(ValueError):
        t.to_bool("maybe")
    assert t.to_umask("022") == 0o22 and t.to_umask("0027") == 0o27
    with pytest.raises(ValueError):
        t.to_umask("999")
    assert t.to_list("a, b  c") == ("a", "b", "c")
    assert t.to_environment('A=1 "B=two words"') == {"A": "1", "B": "two words"}
    with pytest.raises(ValueError):
        t.to_environment("1A=x")
    with pytest.raises(ValueError):
        t.to_positive_int("0")


def test_requirements():
    reqs = t.to_requirements("app#0(up,stdby up) fs#1 task#x(down)")
    assert [(r.rid, r.states) for r in reqs] == [("app#0", ("up", "stdby up")),
                                                 ("fs#1", ("up", "stdby up")),
                                                 ("task#x", ("down",))]
    assert str(reqs[0]) == "app#0(up,stdby up)"
    for bad in ("app#0(upp)", "app0", "app#0()"):
        with pytest.raises(ValueError):
            t.to_requirements(bad)


def test_choice_and_type_names():
    conv = t.choice("failover", "flex")
    assert conv(" flex ") == "flex"
    with pytest.raises(ValueError, match="failover, flex"):
        conv("ring")
    assert t.type_name(conv) == "failover | flex"
    assert t.type_name(t.to_duration) == "duration"


def test_schedule_and_timezone():
    assert t.to_schedule("@0") == "@0"
    assert t.to_schedule(" 00:00-06:00@10 ") == "00:00-06:00@10"
    with pytest.raises(ValueError):
        t.to_schedule("25:00-26:00")
    assert t.to_timezone("Europe/Paris") == "Europe/Paris"
    with pytest.raises(ValueError):
        t.to_timezone("Mars/Olympus")
