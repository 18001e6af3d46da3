"""OpenSVC files through the real CLI: subsets start in name order and a parallel one side
by side, references resolve to this node's root ({var}, {private_var}), ``nodes = *`` on a
standalone node is this node, and a non-PRD service does not start on a PRD node."""

from __future__ import annotations

import time
from pathlib import Path

from e2e_support import Node


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_subsets_in_order_and_a_parallel_one_side_by_side(node: Node, tmp_path):
    log = tmp_path / "log"
    step = f"sh -c 'echo begin {{rid}} >> {log}; sleep 1; echo end {{rid}} >> {log}'"
    node.write("svc", f"""
        [subset#app:2workers]
        parallel = true

        [app#a]
        start = sh -c 'echo begin {{rid}} >> {log}; echo end {{rid}} >> {log}'
        subset = 1first

        [app#w1]
        start = {step}
        subset = 2workers

        [app#w2]
        start = {step}
        subset = 2workers
        """)
    began = time.monotonic()
    res = node.svcmgr("-s", "svc", "start")
    took = time.monotonic() - began
    assert res.rc == 0, res.err
    lines = _lines(log)
    assert lines[:2] == ["begin app#a", "end app#a"]
    assert sorted(lines[2:4]) == ["begin app#w1", "begin app#w2"]  # both began before an end
    assert sorted(lines[4:]) == ["end app#w1", "end app#w2"]
    assert took < 1.9, took  # one second of work each, side by side


def test_var_references_live_under_the_node_root(node: Node):
    node.write("svc", """
        [DEFAULT]
        nodes = *
        [task#0]
        command = sh -c 'echo {nodes} > {private_var}/{rid}.trace; ls -d {var}'
        """)
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 0, res.err
    var = node.root / "var" / "lib" / "orchestrator"
    assert (var / "services" / "svc" / "task#0.trace").read_text().strip() == "n1"


def test_a_non_prd_service_does_not_start_on_a_prd_node(node: Node, tmp_path):
    (node.root / "etc" / "orchestrator" / "node.conf").write_text("[node]\nname = n1\nenv = PRD\n")
    flag = tmp_path / "started"
    node.write("svc", f"[DEFAULT]\nenv = DEV\n[app#0]\nstart = touch {flag}\n")
    res = node.svcmgr("-s", "svc", "start")
    assert res.rc == 1
    assert "a service that is not PRD does not start on a PRD node" in res.err + res.out
    assert not flag.exists()
    node.write("svc", f"[DEFAULT]\nenv = PRD\n[app#0]\nstart = touch {flag}\n")
    assert node.svcmgr("-s", "svc", "start").rc == 0 and flag.exists()
