"""``svcmgr -s SVC logs`` on a standalone node: the newest run's output, one run's by id,
a running run followed to its end, and the errors (unknown run: exit 2)."""

from __future__ import annotations

import time

from e2e_support import Node

CONFIG = """
[DEFAULT]
nodes = n1
[task#0]
command = /bin/sh -c 'echo "run $ORCHESTRATOR_RUN_ID"; echo to stderr >&2'
[task#slow]
command = /bin/sh -c 'for i in 1 2 3; do echo "line $i"; sleep 0.4; done'
[task#never]
command = /bin/true
"""


def test_logs_of_the_newest_run_and_of_one_run(node: Node) -> None:
    node.write("svc", CONFIG)
    for _ in range(2):
        assert node.svcmgr("-s", "svc", "run", "--rid", "task#0").rc == 0
    first, second = [r for r in node.runs("svc") if r["rid"] == "task#0"]
    newest = node.svcmgr("-s", "svc", "logs", "--rid", "task#0")
    assert newest.rc == 0, newest.err
    assert newest.out == f"run {second['run_id']}\nto stderr\n"  # the output, and only it
    assert "output from this node's run store" in newest.err and second["run_id"] in newest.err
    older = node.svcmgr("-s", "svc", "logs", "--run", first["run_id"])
    assert older.rc == 0 and older.out == f"run {first['run_id']}\nto stderr\n"
    assert node.svcmgr("-s", "svc", "logs").out == newest.out  # every task: the newest run


def test_logs_errors(node: Node) -> None:
    node.write("svc", CONFIG)
    unknown = node.svcmgr("-s", "svc", "logs", "--run", "20260101T000000000000Z-000000")
    assert unknown.rc == 2 and "unknown run" in unknown.err and unknown.err.count("\n") == 1
    nope = node.svcmgr("-s", "svc", "logs", "--rid", "task#9")
    assert nope.rc == 2 and "no task task#9" in nope.err
    never = node.svcmgr("-s", "svc", "logs", "--rid", "task#never")
    assert never.rc == 1 and "no run yet" in never.err
    assert node.svcmgr("-s", "nosuch", "logs").rc == 2


def test_follow_a_running_run_to_its_end(node: Node) -> None:
    node.write("svc", CONFIG)
    runner = node.popen("-s", "svc", "run", "--rid", "task#slow")
    try:
        deadline = time.monotonic() + 10
        while not [r for r in node.runs("svc") if r["status"] == "running"]:
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        followed = node.svcmgr("-s", "svc", "logs", "--rid", "task#slow", "--follow")
        assert runner.wait(10) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
    assert followed.rc == 0, followed.err
    assert followed.out == "line 1\nline 2\nline 3\n"
    [done] = [r for r in node.runs("svc") if r["rid"] == "task#slow"]
    assert done["status"] == "ok"  # followed until the record was final
