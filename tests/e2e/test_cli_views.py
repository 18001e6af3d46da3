"""print status/schedule/config, validate, ls, create, delete, start/stop, the per-service link."""

from __future__ import annotations

import json
from pathlib import Path

from e2e_support import SVCMGR

TESTMD = Path(__file__).resolve().parents[2] / "deploy" / "examples" / "testmd.conf"

CONFIG = """
[DEFAULT]
nodes = {nodename} n2
run_schedule = @30

[app#0]
start = /bin/true
stop = /bin/true

[task#0]
command = /bin/true
schedule = 00:00-06:00@10

[task#1]
command = /bin/true

[task#2]
command = /bin/true
confirmation = true

[task#3]
command = /bin/true
schedule = @0
"""


def test_print_status_json(node):
    node.write("svc", CONFIG)
    st = node.status("svc")
    assert {"service", "avail", "overall", "frozen", "active_node", "resources",
            "instances"} <= set(st)
    assert (st["service"], st["avail"], st["frozen"], st["active_node"]) == (
        "svc", "down", False, None)
    assert set(st["resources"]) == {"app#0", "task#0", "task#1", "task#2", "task#3"}
    assert all("status" in r for r in st["resources"].values())
    assert st["instances"] == {"n1": {"avail": "down", "overall": "down"}}
    assert node.svcmgr("-s", "svc", "start").rc == 0
    st = node.status("svc")
    assert (st["avail"], st["overall"], st["active_node"]) == ("up", "up", "n1")
    assert st["resources"]["app#0"]["status"] == "up"
    assert st["instances"]["n1"]["avail"] == "up"
    text = node.svcmgr("-s", "svc", "print", "status")
    assert text.rc == 0 and text.out.startswith("svc") and "app#0" in text.out
    assert node.svcmgr("-s", "svc", "stop").rc == 0
    assert node.status("svc")["avail"] == "down"


def test_print_schedule_json(node):
    node.write("svc", CONFIG)
    res = node.svcmgr("-s", "svc", "print", "schedule", "--format", "json")
    assert res.rc == 0, res.err
    rows = res.json()
    keys = {"action", "rid", "config_parameter", "schedule_definition", "last_run", "next_run"}
    assert all(keys <= set(r) for r in rows)
    by = {(r["action"], r["rid"]): r for r in rows}
    assert by[("status", None)]["config_parameter"] == "DEFAULT.status_schedule"
    assert by[("status", None)]["schedule_definition"] == "@10"
    for action in ("compliance_auto", "push_config", "push_resinfo"):
        assert (action, None) in by
    t0 = by[("run", "task#0")]
    assert (t0["config_parameter"], t0["schedule_definition"]) == ("task#0.schedule",
                                                                   "00:00-06:00@10")
    assert t0["next_run"] is not None and t0["last_run"] is None
    t1 = by[("run", "task#1")]
    assert (t1["config_parameter"], t1["schedule_definition"]) == ("DEFAULT.run_schedule", "@30")
    assert t1["next_run"] is not None
    assert by[("run", "task#2")]["next_run"] is None  # confirmation: never scheduled
    assert by[("run", "task#3")]["next_run"] is None  # @0: unscheduled
    assert node.svcmgr("-s", "svc", "run", "--rid", "task#1").rc == 0
    rows = node.svcmgr("-s", "svc", "print", "schedule", "--format", "json").json()
    t1 = next(r for r in rows if r["rid"] == "task#1")
    assert t1["last_run"] is not None and t1["last_run"].endswith("+00:00")
    assert t1["next_run"] > t1["last_run"]
    text = node.svcmgr("-s", "svc", "print", "schedule")
    assert text.out.split("\n")[0].split() == ["ACTION", "LAST", "RUN", "NEXT", "RUN", "CONFIG",
                                                "PARAMETER", "SCHEDULE", "DEFINITION"]


def test_print_config(node):
    path = node.write("svc", CONFIG)
    res = node.svcmgr("-s", "svc", "print", "config")
    assert res.rc == 0 and res.out == path.read_text()


def test_validate_config_ok(node):
    node.write("svc", CONFIG)
    res = node.svcmgr("-s", "svc", "validate", "config")
    assert res.rc == 0 and "valid" in res.out


def test_ls(node):
    node.write("b", CONFIG)
    node.write("a", CONFIG)
    node.write("bad", "[task#0]\nbogus = 1\n")
    res = node.svcmgr("ls")
    assert res.rc == 0
    assert [line.split()[0] for line in res.out.splitlines()] == ["a", "b", "bad"]
    rows = node.svcmgr("ls", "--format", "json").json()
    assert [(r["service"], r["valid"]) for r in rows] == [("a", True), ("b", True),
                                                         ("bad", False)]


def test_create_valid_then_delete(node, tmp_path):
    res = node.svcmgr("-s", "testmd", "create", "--config", str(TESTMD))
    assert res.rc == 0, res.err
    installed = node.services / "testmd.conf"
    assert installed.read_text() == TESTMD.read_text()
    assert [r["service"] for r in node.svcmgr("ls", "--format", "json").json()] == ["testmd"]
    res = node.svcmgr("-s", "testmd", "delete")
    assert res.rc == 0, res.err
    assert not installed.exists()
    assert node.svcmgr("ls").out == ""
    res = node.svcmgr("-s", "testmd", "delete")
    assert res.rc == 2 and "unknown service 'testmd'" in res.err


def test_create_invalid_installs_nothing(node, tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("[task#0]\ncommand = /bin/true\ntimeout = soon\n")
    res = node.svcmgr("-s", "svc", "create", "--config", str(bad))
    assert res.rc == 2
    assert "timeout = soon" in res.err
    assert list(node.services.iterdir()) == []
    missing = node.svcmgr("-s", "svc", "create", "--config", str(tmp_path / "nope.conf"))
    assert missing.rc == 2 and "no such file" in missing.err
    assert list(node.services.iterdir()) == []


def test_unknown_service(node):
    res = node.svcmgr("-s", "nope", "run")
    assert res.rc == 2
    assert res.err.startswith("error: unknown service 'nope'")
    assert node.svcmgr("-s", "nope", "print", "status").rc == 2


def test_bad_usage_exit_2(node):
    assert node.svcmgr("-s", "x", "frobnicate").rc == 2
    assert node.svcmgr("run").rc == 2


def test_per_service_link(node, tmp_path):
    node.write("testmd", "[task#0]\ncommand = /bin/echo {svcname}\n")
    link = tmp_path / "testmd"
    link.symlink_to(SVCMGR)
    res = node.run([str(link), "run"])
    assert res.rc == 0, res.err
    assert res.out == "testmd\n"
    assert json.loads(node.run([str(link), "print", "status", "--format", "json"]).out)[
        "service"] == "testmd"


def test_start_failure_exit_1(node):
    node.write("svc", "[app#0]\nstart = /bin/false\n")
    res = node.svcmgr("-s", "svc", "start")
    assert res.rc == 1
    assert node.status("svc")["avail"] == "down"


def test_json_logs_when_not_a_tty(node):
    node.write("svc", "[task#0]\ncommand = /bin/true\n")
    res = node.svcmgr("-s", "svc", "run")
    logs = res.logs()
    assert logs and all({"event", "level", "timestamp"} <= set(e) for e in logs)
    assert logs[0]["rid"] == "task#0" and logs[0]["event"] == "/bin/true"
    svclog = node.root / "var" / "log" / "orchestrator" / "svc.log"
    assert json.loads(svclog.read_text().splitlines()[-1])["event"] == "/bin/true"


def test_service_name_cannot_be_a_path(node):
    (node.root / "etc" / "orchestrator" / "x.conf").write_text("[task#0]\ncommand = /bin/true\n")
    for action in (["run"], ["print", "status"], ["validate", "config"], ["delete"]):
        res = node.svcmgr("-s", "../x", *action)
        assert res.rc == 2, (action, res.err)
        assert "invalid service name '../x'" in res.err
    assert (node.root / "etc" / "orchestrator" / "x.conf").exists()
    assert not (node.root / "var").exists()
