"""The strict INI reader."""

from __future__ import annotations

from orchestrator.config.ini import parse_ini


def test_sections_options_lines():
    sections, problems = parse_ini("a = 1\n[task#0]\n# c\n; c\ncommand = date +%F\n\n  more\n")
    assert problems == []
    assert sections["DEFAULT"].options == {"a": "1"}
    assert sections["task#0"].options == {"command": "date +%F\nmore"}
    assert sections["task#0"].lines == {"command": 5}


def test_duplicates_and_garbage_reported_with_lines():
    _, problems = parse_ini("[s]\nk = 1\nk = 2\n[s]\nnonsense\n")
    assert [(p.line, p.key) for p in problems] == [(3, "k"), (4, None), (5, None)]
    assert "first at line 2" in problems[0].message
    assert "first at line 1" in problems[1].message


def test_value_keeps_equals_and_empty():
    sections, problems = parse_ini("[s]\nenvironment = A=1 B=2\nempty =\n")
    assert problems == []
    assert sections["s"].options == {"environment": "A=1 B=2", "empty": ""}
