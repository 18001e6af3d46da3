"""run_requires against the current resource states, manual vs --cron."""

from __future__ import annotations

CONFIG = """
[app#0]
start = /bin/true
stop = /bin/true

[app#1]
start = /bin/true
standby = true

[task#0]
command = /bin/echo ran
run_requires = app#0(up)

[task#1]
command = /bin/echo ran1
run_requires = app#0(down,warn) app#1

[task#2]
command = /bin/echo ran2
"""


def test_manual_run_with_unmet_requirement_fails(node):
    node.write("svc", CONFIG)
    res = node.svcmgr("-s", "svc", "run", "--rid", "task#0")
    assert res.rc == 1
    assert res.out == ""
    errors = [e["event"] for e in res.logs() if e["level"] == "error"]
    assert any("app#0 is down, wanted up" in e for e in errors), errors
    run = node.runs("svc")[0]
    assert run["status"] == "refused" and run["started_at"] is None
    assert "app#0 is down" in run["reason"]


def test_requirement_met_after_start(node):
    node.write("svc", CONFIG)
    assert node.svcmgr("-s", "svc", "start").rc == 0
    res = node.svcmgr("-s", "svc", "run", "--rid", "task#0")
    assert res.rc == 0, res.err
    assert res.out == "ran\n"


def test_default_states_and_standby(node):
    node.write("svc", CONFIG)
    # app#1 (standby) is "stdby down" before start: default states up,stdby up are unmet
    res = node.svcmgr("-s", "svc", "run", "--rid", "task#1")
    assert res.rc == 1
    assert any("app#1 is stdby down, wanted up or stdby up" in e for e in res.events()), res.err
    assert node.svcmgr("-s", "svc", "start").rc == 0
    # app#0 now up: task#1 wants it down or warn
    res = node.svcmgr("-s", "svc", "run", "--rid", "task#1")
    assert res.rc == 1
    assert any("app#0 is up, wanted down or warn" in e for e in res.events()), res.err
    assert node.svcmgr("-s", "svc", "stop").rc == 0


def test_cron_skips_and_records_reason(node):
    node.write("svc", CONFIG)
    res = node.svcmgr("-s", "svc", "run", "--cron")
    assert res.rc == 0, res.err
    assert res.out == "ran2\n"
    runs = {r["rid"]: r for r in node.runs("svc")}
    assert runs["task#0"]["status"] == "skipped"
    assert "app#0 is down, wanted up" in runs["task#0"]["reason"]
    assert runs["task#1"]["status"] == "skipped"
    assert runs["task#2"]["status"] == "ok"


def test_requirement_on_unknown_resource_is_config_error(node):
    node.write("svc", "[task#0]\ncommand = /bin/true\nrun_requires = app#9(up)\n")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 2
    assert "run_requires = app#9(up)" in res.err and "no resource app#9" in res.err
