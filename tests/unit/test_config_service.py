"""Service config resolution: scoping, references, defaults, every problem at once."""

from __future__ import annotations

import pytest

from orchestrator.config.errors import ConfigError
from orchestrator.config.service import parse_service


def parse(text: str, node: str = "n1"):
    return parse_service(text, "/x/svc.conf", "svc", node)


def test_defaults_and_types():
    cfg = parse("[task#0]\ncommand = /bin/true\ntimeout = 1m\n")
    task = cfg.resources["task#0"]
    assert task["timeout"] == 60.0 and task["max_parallel"] == 1
    assert task["confirmation"] is False and task["run_requires"] == ()
    assert cfg.nodes == ("n1",)
    assert cfg.defaults["status_schedule"] == "@10"


def test_scoping_precedence():
    text = ("[DEFAULT]\nnodes = n1 n2\n[task#0]\ncommand = a\ncommand@nodes = b\n"
            "command@n2 = c\n")
    assert parse(text, "n1").resources["task#0"]["command"] == "b"
    assert parse(text, "n2").resources["task#0"]["command"] == "c"
    assert parse(text, "n3").resources["task#0"]["command"] == "a"


def test_references(monkeypatch):
    monkeypatch.setenv("FROM_OS", "os")
    cfg = parse("[DEFAULT]\nnodes = {nodename}\n[env]\nX = envx\n"
                "[task#0]\ncommand = {svcname} {nodename} {env.X} {env.FROM_OS} %s date +%F\n")
    assert cfg.resources["task#0"]["command"] == "svc n1 envx os %s date +%F"
    assert cfg.nodes == ("n1",)


def test_every_problem_at_once_sorted_by_line():
    with pytest.raises(ConfigError) as info:
        parse("[DEFAULT]\ntopology = ring\n[task#0]\ncomand = x\ntimeout = soon\n"
              "run_requires = app#9\n[weird]\n")
    problems = info.value.problems
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    reasons = [p.reason for p in problems]
    assert any("did you mean 'command'" in r for r in reasons)
    assert any(r.startswith("invalid duration") for r in reasons)
    assert any("no resource app#9" in r for r in reasons)
    assert any("bad section name" in r for r in reasons)
    assert any("required keyword is missing" in r for r in reasons)
    assert any("expected one of: failover, flex" in r for r in reasons)
    assert str(problems[0]) == ("/x/svc.conf:2: [DEFAULT] topology = ring: invalid "
                                "failover | flex: expected one of: failover, flex")


def test_unresolved_reference():
    with pytest.raises(ConfigError, match=r"unresolved reference \{env.NOPE_X\}"):
        parse("[task#0]\ncommand = {env.NOPE_X}\n")


def test_unscopable():
    with pytest.raises(ConfigError, match="cannot be scoped"):
        parse("[DEFAULT]\ntopology@n1 = flex\n")


def test_topology_flex_takes_om3s_keywords_and_their_deprecated_aliases():
    cfg = parse("[DEFAULT]\nnodes = n1 n2 n3\ntopology = flex\nflex_min_nodes = 2\n"
                "flex_max_nodes = 3\nflex_target = 2\n")
    assert cfg.defaults["topology"] == "flex"
    assert (cfg.defaults["flex_min"], cfg.defaults["flex_max"], cfg.defaults["flex_target"]) \
        == (2, 3, 2)
    # where both are written, the keyword's own name wins over its alias
    both = parse("[DEFAULT]\nflex_min = 1\nflex_min_nodes = 3\n")
    assert both.defaults["flex_min"] == 1
    assert parse("[DEFAULT]\ntopology = failover\n").defaults["topology"] == "failover"


def test_snooze_is_refused_unless_zero():
    with pytest.raises(ConfigError) as info:
        parse("[task#0]\ncommand = /bin/true\nsnooze = 10m\n")
    [problem] = info.value.problems
    assert str(problem).startswith("/x/svc.conf:3: [task#0] snooze = 10m: not supported")
    assert "\n" not in str(problem)
    for zero in ("0", "0s"):
        cfg = parse(f"[task#0]\ncommand = /bin/true\nsnooze = {zero}\n")
        assert cfg.resources["task#0"]["snooze"] == 0.0
