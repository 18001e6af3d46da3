"""Task selection of the run action (pure: no process is started)."""

from __future__ import annotations

import pytest

from orchestrator.actions.run import RunOptions, _matches_tags, select_tasks, split_list
from orchestrator.config.node import NodeConfig
from orchestrator.config.service import parse_service
from orchestrator.errors import UsageError
from orchestrator.paths import NodePaths
from orchestrator.service import Service

CONFIG = """
[app#0]
start = /bin/true
[task#10]
command = x
[task#2]
command = x
tags = a b
subset = s1
[task#backup]
command = x
tags = b
subset = s2
"""


@pytest.fixture
def svc(tmp_path):
    node = NodeConfig("n1", NodePaths(tmp_path), {})
    return Service(parse_service(CONFIG, "svc.conf", "svc", "n1"), node)


def rids(svc, **kw):
    return [rc.rid for rc in select_tasks(svc, RunOptions(**kw))]


def test_split_list():
    assert split_list("task#0,task#1 task#2,,") == ["task#0", "task#1", "task#2"]
    assert split_list(None) == []


@pytest.mark.parametrize("expr, tags, ok", [
    ("a", ("a",), True), ("a,b", ("b",), True), ("a+b", ("b",), False),
    ("a+b", ("a", "b"), True), ("a+b,c", ("c",), True), ("x", (), False), (None, (), True),
])
def test_tags(expr, tags, ok):
    assert _matches_tags(tags, expr) is ok


def test_select(svc):
    assert rids(svc) == ["task#2", "task#10", "task#backup"]
    assert rids(svc, rids=["task"]) == ["task#2", "task#10", "task#backup"]
    assert rids(svc, rids=["task#backup", "task#2"]) == ["task#2", "task#backup"]
    assert rids(svc, tags="b") == ["task#2", "task#backup"]
    assert rids(svc, tags="a+b") == ["task#2"]
    assert rids(svc, subsets=["s2"]) == ["task#backup"]
    assert rids(svc, rids=["task"], tags="b", subsets=["s1"]) == ["task#2"]


@pytest.mark.parametrize("kw", [{"rids": ["app"]}, {"rids": ["app#0"]}, {"tags": "zz"},
                                {"rids": ["task#2", "task#3"]}, {"subsets": ["s9"]}])
def test_select_errors(svc, kw):
    with pytest.raises(UsageError) as info:
        select_tasks(svc, RunOptions(**kw))
    assert info.value.exit_code == 2
