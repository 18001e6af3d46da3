"""Failover on resource failure (issue 12) with real daemons: a monitored app whose process
is killed is restarted on the same node; when its restarts fail, ``monitor_action`` decides
(switch: the next node takes it, the reason visible from any node; freezestop: stopped and
frozen; none: reported only, as is the failure of an unmonitored resource); a stop is never
fought; tasks follow.

The app is a detached ``sleep`` with a pidfile (monitor_support.py); monitor_schedule is
@2s and restart_delay 500ms, so a kill is seen within 2 s and restarted at once.
"""

from __future__ import annotations

import json
import time

import pytest
from daemons import Cluster, wait_until
from monitor_support import (
    alive,
    app_pid,
    app_section,
    break_node,
    events,
    kill_app,
    monitored_config,
)
from sched_support import read_runs, recording_task, runs_json

SCHEDULE, DELAY = 2.0, 0.5
# the kill is seen at the next monitor run (<= SCHEDULE), restarted at once; the rest is the
# status check, the start and a loaded 2-core machine
RESTART_BUDGET = SCHEDULE + DELAY + 2.5


@pytest.fixture
def cluster(app_cluster):
    return app_cluster


def start(c: Cluster, text: str, node: str = "n1") -> int:
    c.start()
    c.wait_joined()
    c.create("svc1", text)
    pid = wait_until(lambda: alive(app_pid(c, node)) and app_pid(c, node), 20,
                     what=f"the app up on {node}")
    wait_until(lambda: c.active_node("svc1") == node, 10, what=f"svc1 active on {node}")
    return pid


def monitor_records(c: Cluster, node: str) -> list[dict]:
    return [r for r in runs_json(c, node, "svc1") if r["rid"] == "resource_monitor"]


def status(c: Cluster, node: str) -> dict:
    return c.svc_status("svc1", node)


def test_a_killed_monitored_app_is_restarted_on_the_same_node(cluster):
    c = cluster(names=("n1", "n2"))
    runs = c.base / "runs"
    pid = start(c, monitored_config(c, action="switch", restart=1,
                                    extra=recording_task(runs)))
    sched = json.loads(c.svc("n2", "svc1", "print", "schedule", "--format", "json",
                             check=True).stdout)
    monitor = next(e for e in sched if e["action"] == "resource_monitor")
    assert (monitor["config_parameter"], monitor["schedule_definition"]) == (
        "DEFAULT.monitor_schedule", "@2s")
    for round_ in (1, 2):  # a restart that works is made at every failure: the count resets
        t0 = time.time()
        kill_app(c, "n1")
        new = wait_until(lambda old=pid: (p := app_pid(c, "n1")) != old and alive(p) and p,
                         RESTART_BUDGET + 5, what=f"the app restarted on n1 (round {round_})")
        took = time.time() - t0
        print(f"round {round_}: killed -> restarted on n1 in {took:.2f}s")
        assert took <= RESTART_BUDGET, f"restarted {took:.2f}s after the kill"
        pid = new
        assert not alive(app_pid(c, "n2"))
        st = status(c, "n2")
        assert st["active_node"] == "n1" and st["target"]["failed"] == {}
    records = monitor_records(c, "n2")
    ok = [r for r in records if r["status"] == "ok" and r["node"] == "n1"]
    assert len(ok) >= 2, records
    assert all(r["reason"] == "app#0 restart attempt 1 of 1: restarted, up" for r in ok), ok
    assert "svc1: restarting app#0 (attempt 1 of 1)" in c.log("n1")
    # the count is shown, reset once the app is seen up again
    st = status(c, "n1")
    assert st["resources"]["app#0"]["monitor"] is True
    assert st["resources"]["app#0"]["restart"] == 1
    wait_until(lambda: status(c, "n1")["instances"]["n1"]["monitored"]["app#0"]["restarts"]
               == 0, 10, what="the restart count reset")
    # the task ran on n1 all along
    assert {r.node for r in read_runs(runs)} == {"n1"}
    # a switch is not fought: n1's app, stopped by it, is not restarted there
    switched_at = time.time()
    c.svc("n2", "svc1", "switch", "--to", "n2", check=True)
    time.sleep(SCHEDULE * 2 + 1)
    assert not alive(app_pid(c, "n1")) and alive(app_pid(c, "n2"))
    assert not [e for e in events(c) if e[1:3] == ("start", "n1") and e[0] > switched_at]
    assert status(c, "n1")["target"]["failed"] == {}
    # nor is a stop: nothing is restarted anywhere once stopped by request
    c.svc("n1", "svc1", "stop", check=True)
    stopped_at = time.time()
    time.sleep(SCHEDULE * 2 + 1)
    assert not alive(app_pid(c, "n1")) and not alive(app_pid(c, "n2"))
    assert not [e for e in events(c) if e[1] == "start" and e[0] > stopped_at], events(c)


def test_spent_restarts_switch_to_the_next_node_with_the_reason_everywhere(cluster):
    c = cluster(names=("n1", "n2"))
    runs = c.base / "runs"
    start(c, monitored_config(c, action="switch", restart=2, extra=recording_task(runs)))
    break_node(c, "n1")  # its restarts fail on n1
    t0 = time.time()
    kill_app(c, "n1")
    wait_until(lambda: alive(app_pid(c, "n2")), 25, what="the app up on n2")
    print(f"killed on n1 -> up on n2 in {time.time() - t0:.2f}s")
    wait_until(lambda: c.active_node("svc1", "n1") == "n2", 10, what="svc1 active on n2")
    assert not alive(app_pid(c, "n1"))
    for node in ("n1", "n2"):  # the reason, from any node
        failed = status(c, node)["target"]["failed"]
        assert list(failed) == ["n1"], failed
        assert failed["n1"].startswith("monitored resource app#0 is down"), failed
        assert "2 restart attempt(s) failed" in failed["n1"], failed
    records = [r for r in monitor_records(c, "n2") if r["node"] == "n1"]
    attempts = [r["reason"] for r in records if r["reason"].startswith("app#0 restart attempt")]
    assert [a.split(":")[0] for a in attempts] == ["app#0 restart attempt 1 of 2",
                                                  "app#0 restart attempt 2 of 2"], records
    assert all(r["status"] == "failed" for r in records
               if r["reason"].startswith("app#0 restart attempt"))
    action = [r for r in records if "monitor_action switch" in r["reason"]]
    assert len(action) == 1 and action[0]["status"] == "ok", records
    assert "giving up here: monitored resource app#0 is down" in c.log("n1")
    assert "(n1 gave it up: monitored resource app#0 is down" in c.log("n2")
    # nodemgr status: n1's spent restarts
    ns = c.status("n2")["services"]["svc1"]
    assert ns["instances"]["n1"]["monitored"]["app#0"]["restarts"] == 2, ns
    assert ns["instances"]["n1"]["monitor_action"]["action"] == "switch", ns
    text = c.cli("n2", "status", tool="nodemgr", check=True).stdout
    assert "n1: app#0 2/2" in text, text
    # tasks follow: the recording task runs on n2 now
    switched = time.time()
    wait_until(lambda: any(r.node == "n2" and r.ts > switched for r in read_runs(runs)), 15,
               what="the task running on n2")
    assert not [r for r in read_runs(runs) if r.node == "n1" and r.ts > switched + 1]
    # clear: the failure marks and the spent restarts are gone
    c.svc("n2", "svc1", "clear", check=True)
    assert status(c, "n1")["target"]["failed"] == {}
    wait_until(lambda: status(c, "n2")["instances"]["n1"].get("monitored", {})
               .get("app#0", {}).get("restarts") == 0, 15, what="n1's counts cleared")


def test_freezestop_leaves_it_stopped_and_frozen(cluster):
    c = cluster(names=("n1", "n2"))
    runs = c.base / "runs"
    start(c, monitored_config(c, action="freezestop", restart=0, extra=recording_task(runs)))
    kill_app(c, "n1")
    wait_until(lambda: status(c, "n2")["frozen"], 15, what="svc1 frozen")
    wait_until(lambda: status(c, "n2")["active_node"] is None, 15, what="svc1 stopped")
    stopped = time.time()
    time.sleep(SCHEDULE * 2)
    st = status(c, "n2")
    assert st["frozen"] and st["active_node"] is None and st["target"]["state"] == "stopped"
    assert not alive(app_pid(c, "n1")) and not alive(app_pid(c, "n2"))
    records = monitor_records(c, "n2")
    assert any("monitor_action freezestop: frozen, stopping" in r["reason"]
               and r["status"] == "ok" for r in records), records
    assert not [r for r in read_runs(runs) if r.ts > stopped]  # no task runs anywhere
    c.svc("n2", "svc1", "thaw", check=True)
    assert not status(c, "n2")["frozen"]


def test_none_only_reports_and_so_does_an_unmonitored_failure(cluster):
    c = cluster(names=("n1", "n2"))
    runs = c.base / "runs"
    text = (monitored_config(c, action="none", restart=0, extra=recording_task(runs))
            + "\n" + app_section(c, "app#1", "monitor = false\n"))
    start(c, text)
    wait_until(lambda: alive(app_pid(c, "n1", "app#1")), 10, what="app#1 up on n1")
    kill_app(c, "n1")
    kill_app(c, "n1", "app#1")
    wait_until(lambda: len({r["reason"].split(" ")[0] for r in monitor_records(c, "n2")
                            if "reported only" in r["reason"]}) == 2, 15,
               what="both failures reported")
    time.sleep(SCHEDULE * 2)
    records = monitor_records(c, "n2")
    reasons = [r["reason"] for r in records]
    assert sum("app#0" in r and "monitor_action none: reported only" in r
               for r in reasons) == 1, reasons  # once per failure, not every run
    assert sum(r.startswith("app#1 is down") and "not monitored" in r
               for r in reasons) == 1, reasons
    assert not [r for r in records if " restart attempt " in r["reason"]]
    st = status(c, "n2")
    assert st["active_node"] == "n1" and st["target"]["failed"] == {}  # not relocated
    assert st["resources"]["app#0"]["status"] == "down"
    assert not alive(app_pid(c, "n1")) and not alive(app_pid(c, "n2"))
    t = time.time()  # the task keeps running where the service is
    wait_until(lambda: any(r.node == "n1" and r.ts > t for r in read_runs(runs)), 10,
               what="the task still running on n1")


def test_standby_resources_are_monitored_on_every_node(cluster):
    c = cluster(names=("n1", "n2"))
    text = (monitored_config(c, action="none", restart=1)
            + "\n" + app_section(c, "app#1", "standby = true\nrestart = 1\n"))
    start(c, text)
    # n2 is passive: its monitor (node-scoped now) starts the standby app there
    wait_until(lambda: alive(app_pid(c, "n2", "app#1")), RESTART_BUDGET + 5,
               what="the standby app started on the passive node")
    assert not alive(app_pid(c, "n2"))  # the others are not
    pid = kill_app(c, "n2", "app#1")
    wait_until(lambda: (p := app_pid(c, "n2", "app#1")) != pid and alive(p),
               RESTART_BUDGET + 5, what="the standby app restarted on n2")
    records = [r for r in monitor_records(c, "n1") if r["node"] == "n2"]
    assert any(r["reason"] == "app#1 restart attempt 1 of 1: restarted, up" for r in records)
    assert c.active_node("svc1", "n2") == "n1"
