"""The collector's service page lists a config's schedule keywords, read as the nodes read
the file (orchestrator.config.ini)."""

from __future__ import annotations

from orchestrator.collector.web_service import schedule_keywords


def test_every_schedule_keyword_in_file_order_scoped_ones_too() -> None:
    text = """
[DEFAULT]
nodes = n1 n2
sync_schedule = @1h
status_schedule@n2 = @10m

; a comment
[task#0]
command = /bin/true
schedule = 0 3 * * *

[task#1]
command = sh -c 'echo schedule = not a keyword'
schedule = ["* * * * *",
  "@5m"]
"""
    assert schedule_keywords(text) == [
        ("DEFAULT", "sync_schedule", "@1h"),
        ("DEFAULT", "status_schedule@n2", "@10m"),
        ("task#0", "schedule", "0 3 * * *"),
        ("task#1", "schedule", '["* * * * *",\n"@5m"]'),
    ]


def test_no_schedule_no_rows() -> None:
    assert schedule_keywords("[task#0]\ncommand = true\n") == []
    assert schedule_keywords("") == []
