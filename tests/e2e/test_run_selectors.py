"""run selectors through the CLI: --rid (exact, driver prefix, comma lists), --tags, --subsets."""

from __future__ import annotations

import pytest

CONFIG = """
[task#0]
command = /bin/true
tags = backup daily

[task#1]
command = /bin/true
tags = backup
subset = grp1

[task#2]
command = /bin/true
tags = daily
subset = grp2

[task#10]
command = /bin/true
"""


def ran(node) -> list[str]:
    return [r["rid"] for r in node.runs("svc") if r["status"] == "ok"]


@pytest.mark.parametrize("args, expected", [
    ([], ["task#0", "task#1", "task#2", "task#10"]),
    (["--rid", "task#1"], ["task#1"]),
    (["--rid", "task"], ["task#0", "task#1", "task#2", "task#10"]),
    (["--rid", "task#2,task#0"], ["task#0", "task#2"]),
    (["--rid", "task#2", "--rid", "task#10"], ["task#2", "task#10"]),
    (["--rid", "task", "--tags", "backup"], ["task#0", "task#1"]),
    (["--tags", "backup,daily"], ["task#0", "task#1", "task#2"]),
    (["--tags", "backup+daily"], ["task#0"]),
    (["--subsets", "grp2"], ["task#2"]),
    (["--subsets", "grp1,grp2"], ["task#1", "task#2"]),
    (["--rid", "task#1", "--tags", "daily"], None),
])
def test_selection(node, args, expected):
    node.write("svc", CONFIG)
    res = node.svcmgr("-s", "svc", "run", *args)
    if expected is None:
        assert res.rc == 2
        assert "no task of service 'svc' matches" in res.err
        assert node.runs("svc") == []
        return
    assert res.rc == 0, res.err
    assert ran(node) == expected  # in natural rid order


@pytest.mark.parametrize("args", [["--rid", "task#9"], ["--rid", "app"], ["--tags", "nope"],
                                  ["--subsets", "nope"]])
def test_selection_matching_nothing_exit_2(node, args):
    node.write("svc", CONFIG)
    res = node.svcmgr("-s", "svc", "run", *args)
    assert res.rc == 2
    assert res.err.startswith("error: no task"), res.err
    assert res.err.count("\n") == 1
    assert "Traceback" not in res.err


def test_unknown_rid_in_a_list_is_an_error(node):
    node.write("svc", CONFIG)
    res = node.svcmgr("-s", "svc", "run", "--rid", "task#0,task#99")
    assert res.rc == 2, res.err
    assert "task#99" in res.err
    assert node.runs("svc") == []
