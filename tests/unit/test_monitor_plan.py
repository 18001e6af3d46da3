"""The resource monitor (issue 12): its pure decisions (jobs.monitor_plan: statuses, marks
and config in, restarts / resets / monitor action / reports out, the clock a parameter), its
job in the schedule table, its keywords, and the monitor actions that are refused."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from orchestrator.config.errors import ConfigError
from orchestrator.config.node import load_node_config
from orchestrator.config.service import parse_service
from orchestrator.jobs import service_jobs
from orchestrator.jobs.model import Firing, Job
from orchestrator.jobs.monitor import monitor_jobs, quiet_reason
from orchestrator.jobs.monitor_actions import act, refused, take
from orchestrator.jobs.monitor_plan import (
    Mark,
    Marks,
    Watched,
    apply_resets,
    failure_reason,
    next_action,
    plan,
)
from orchestrator.paths import NodePaths
from orchestrator.service import Service


def app(status: str, **kw: Any) -> Watched:
    return Watched("app#0", status, **{"monitored": True, "restart": 2, **kw})


# ---------------------------------------------------------------------- the pure plan


def test_a_down_resource_is_restarted_at_once_then_restart_delay_apart():
    marks = Marks()
    p = plan([app("down", restart_delay=3.0)], marks, started=True, now=100.0)
    assert [(r.rid, r.not_before, r.attempt, r.of) for r in p.restarts] == [
        ("app#0", 100.0, 1, 2)]
    marks.resources["app#0"] = Mark(attempts=1, last_at=100.0)
    p = plan([app("down", restart_delay=3.0)], marks, started=True, now=101.0)
    assert [(r.not_before, r.attempt) for r in p.restarts] == [(103.0, 2)]
    p = plan([app("down", restart_delay=3.0)], marks, started=True, now=200.0)
    assert p.restarts[0].not_before == 200.0  # the delay is long past: now
    assert p.action_rid is None


@pytest.mark.parametrize("status", ["down", "warn", "stdby down"])
def test_down_warn_and_stdby_down_are_failures(status):
    assert plan([app(status)], Marks(), started=True, now=0.0).restarts


@pytest.mark.parametrize("status", ["up", "stdby up", "n/a", "undef"])
def test_up_stdby_up_na_and_undef_are_not(status):
    p = plan([app(status)], Marks(), started=True, now=0.0)
    assert not p.restarts and p.action_rid is None and not p.reports


def test_spent_restarts_of_a_monitored_resource_lead_to_the_monitor_action_once():
    marks = Marks(resources={"app#0": Mark(attempts=2, last_at=5.0)})
    w = app("down", reason="check exited with code 1")
    p = plan([w], marks, started=True, now=10.0)
    assert not p.restarts and p.action_rid == "app#0"
    assert p.action_reason == ("monitored resource app#0 is down (check exited with code 1): "
                               "2 restart attempt(s) failed")
    marks.action = "switch"
    p = plan([w], marks, started=True, now=11.0)
    assert p.action_rid is None and not p.restarts  # taken: not again in this episode


def test_seen_up_again_resets_the_count_and_rearms_the_action():
    marks = Marks(resources={"app#0": Mark(attempts=2, last_at=5.0)}, action="none")
    p = plan([app("up")], marks, started=True, now=10.0)
    assert p.resets == ("app#0",)
    apply_resets(marks, p)
    assert marks.resources == {} and marks.action is None
    # so a resource that restarts fine is restarted at every failure
    p = plan([app("down")], marks, started=True, now=20.0)
    assert p.restarts[0].attempt == 1


def test_no_restart_configured_means_the_action_at_once():
    p = plan([app("down", restart=0)], Marks(), started=True, now=0.0)
    assert p.action_rid == "app#0" and not p.restarts
    assert p.action_reason is not None and "no restart configured" in p.action_reason


def test_an_unmonitored_resource_with_restart_is_restarted_then_only_reported():
    w = app("down", monitored=False, restart=1)
    assert plan([w], Marks(), started=True, now=0.0).restarts  # as OpenSVC does
    marks = Marks(resources={"app#0": Mark(attempts=1, last_at=0.0)})
    p = plan([w], marks, started=True, now=5.0)
    assert p.action_rid is None and not p.restarts
    assert p.reports == (("app#0", "app#0 is down: not monitored and its 1 restart "
                                    "attempt(s) failed: reported only"),)
    marks.resources["app#0"].reported = True
    assert not plan([w], marks, started=True, now=6.0).reports  # once per failure


def test_an_unmonitored_resource_without_restart_is_only_reported():
    p = plan([app("down", monitored=False, restart=0)], Marks(), started=True, now=0.0)
    assert not p.restarts and p.action_rid is None
    assert "no restart configured: reported only" in p.reports[0][1]


def test_only_standby_resources_are_looked_at_when_the_instance_is_not_started():
    normal, standby = app("down"), Watched("app#1", "stdby down", True, 1, standby=True)
    p = plan([normal, standby], Marks(), started=False, now=0.0)
    assert [r.rid for r in p.restarts] == ["app#1"]


def test_a_driver_that_cannot_restart_goes_to_the_action():
    p = plan([app("down", restartable=False)], Marks(), started=True, now=0.0)
    assert not p.restarts and p.action_rid == "app#0"
    assert failure_reason(app("down", restartable=False), 0).endswith(
        "its driver cannot restart it")


def test_quiet_means_no_action_but_the_counts_still_reset():
    marks = Marks(resources={"app#0": Mark(attempts=1)})
    p = plan([app("down"), Watched("app#1", "up")], marks, started=True, now=0.0,
             quiet="a stop was requested")
    assert p.skipped == "a stop was requested" and not p.restarts and p.action_rid is None
    marks = Marks(resources={"app#1": Mark(attempts=1)})
    p = plan([Watched("app#1", "up")], marks, started=True, now=0.0, quiet="frozen")
    assert p.resets == ("app#1",)


def test_fallback_actions():
    assert next_action(("freezestop", "reboot"), 0) == "freezestop"
    assert next_action(("freezestop", "reboot"), 1) == "reboot"
    assert next_action(("none",), 1) is None


def test_clear_forgets_everything():
    marks = Marks(resources={"app#0": Mark(attempts=2)}, action="switch", action_reason="x")
    marks.clear(3)
    assert (marks.resources, marks.action, marks.cleared) == ({}, None, 3)


# ---------------------------------------------------------------------- the job, keywords


def _service(tmp_path: Path, text: str, node_text: str = "[node]\nname = n1\n") -> Service:
    conf = tmp_path / "etc" / "orchestrator" / "node.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(node_text)
    node = load_node_config(NodePaths(tmp_path))
    return Service(parse_service(text, "svc.conf", "svc", node.nodename), node)


MONITORED = """
[DEFAULT]
monitor_action = freezestop reboot
[app#0]
start = /bin/true
monitor = true
restart = 2
"""


def test_keywords_have_opensvcs_names_and_defaults(tmp_path):
    svc = _service(tmp_path, "[app#0]\nstart = /bin/true\n")
    rc = svc.resource("app#0")
    assert (rc["monitor"], rc["restart"], rc["restart_delay"]) == (False, 0, 0.5)
    d = svc.config.defaults
    assert (d["monitor_action"], d["pre_monitor_action"], d["monitor_schedule"]) == (
        ("none",), None, "@1m")
    assert svc.node.get("node", "allow_monitor_reboot") is False
    svc = _service(tmp_path, MONITORED + "restart_delay = 250ms\n")
    assert svc.config.defaults["monitor_action"] == ("freezestop", "reboot")
    assert svc.resource("app#0")["restart_delay"] == 0.25


def test_a_bad_monitor_action_is_refused_naming_it(tmp_path):
    with pytest.raises(ConfigError) as exc:
        _service(tmp_path, "[DEFAULT]\nmonitor_action = freezestop explode\n[app#0]\n"
                           "start = /bin/true\n")
    assert "monitor_action" in str(exc.value) and "explode" in str(exc.value)


def test_the_resource_monitor_job_exists_only_with_something_to_watch(tmp_path):
    assert monitor_jobs(_service(tmp_path, "[app#0]\nstart = /bin/true\n")) == []
    svc = _service(tmp_path, MONITORED)
    jobs = [j for j in service_jobs(svc) if j.action == "resource_monitor"]
    assert [(j.config_parameter, j.schedule_definition, j.node_scoped) for j in jobs] == [
        ("DEFAULT.monitor_schedule", "@1m", False)]  # the active instance only
    svc = _service(tmp_path, MONITORED + "standby = true\n")
    assert monitor_jobs(svc)[0].node_scoped  # standby resources: every node
    svc = _service(tmp_path, "[app#0]\nstart = /bin/true\nrestart = 1\n"
                             "[DEFAULT]\nmonitor_schedule = @2s\n")
    assert monitor_jobs(svc)[0].schedule_definition == "@2s"


# ---------------------------------------------------------------------- actions, conflicts


class Store:
    def __init__(self) -> None:
        self.records: list[Any] = []

    def save(self, record: Any) -> None:
        self.records.append(record)


def _host(svc: Service, clustered: bool = True, **kw: Any) -> SimpleNamespace:
    targets: dict[str, Any] = {}

    def update_target(name: str, change: Any) -> dict[str, Any]:
        targets[name] = change(targets.get(name, {}))
        return targets[name]

    coord = SimpleNamespace(update_target=update_target, targets=targets)
    return SimpleNamespace(me="n1", clustered=clustered, node=svc.node,
                           coord=coord if clustered else None, runtimes={},
                           wake=threading.Event(), stop_event=threading.Event(),
                           coord_connected=lambda: True, alive=("n1", "n2"), **kw)


def _firing(store: Store, allowed: bool = True) -> Firing:
    job = Job("resource_monitor", None, "DEFAULT.monitor_schedule", "@1m")
    now = datetime.now(UTC)
    return Firing("svc", job, now, now, store=store, allowed=lambda: allowed)


@pytest.mark.parametrize("action", ["reboot", "crash"])
def test_reboot_and_crash_are_refused_without_the_node_guard(tmp_path, action):
    svc = _service(tmp_path, MONITORED)
    host = _host(svc)
    why = refused(host, action)
    assert why == (f"monitor_action {action} refused: [node] allow_monitor_reboot is false "
                   "in node.conf")
    assert act(host, "svc", action, "app#0 is down") == (False, why)
    guarded = _service(tmp_path, MONITORED, "[node]\nname = n1\nallow_monitor_reboot = true\n")
    assert refused(_host(guarded), action) is None  # allowed, never run here


def test_switch_marks_this_node_failed_with_the_reason_and_records_it(tmp_path):
    svc = _service(tmp_path, MONITORED.replace("freezestop reboot", "switch"))
    host, store = _host(svc), Store()
    rt = SimpleNamespace(name="svc", service=svc, state="started", started=True, target={})
    marks = Marks()
    take(host, rt, _firing(store), marks, "app#0", "monitored resource app#0 is down: 2 "
         "restart attempt(s) failed")
    assert host.coord.targets["svc"]["failed"] == {
        "n1": "monitored resource app#0 is down: 2 restart attempt(s) failed"}
    assert host.wake.is_set() and marks.action == "switch"
    (rec,) = store.records
    assert rec.status == "ok" and rec.rid == "resource_monitor"
    assert "monitor_action switch: n1 marked failed" in rec.reason


def test_freezestop_freezes_and_stops_and_refused_reboot_fallback_is_recorded(tmp_path):
    svc = _service(tmp_path, MONITORED)  # freezestop reboot
    host, store = _host(svc), Store()
    rt = SimpleNamespace(name="svc", service=svc, state="started", started=True, target={})
    write = host.coord.update_target

    def update_target(name: str, change: Any) -> dict[str, Any]:
        # the decision loop stops the instance, and the stop fails: the fallback runs
        rt.state, rt.started, rt.stop_failed = "stopped", False, True
        return write(name, change)

    host.coord.update_target = update_target
    take(host, rt, _firing(store), Marks(), "app#0", "app#0 is down")
    assert host.coord.targets["svc"] == {"frozen": True, "state": "stopped", "node": None}
    assert [r.status for r in store.records] == ["ok", "failed"]
    assert "allow_monitor_reboot is false" in store.records[1].reason


def test_on_a_passive_node_switch_only_marks_it_failed_and_freezestop_is_not_taken(tmp_path):
    svc = _service(tmp_path, MONITORED.replace("freezestop reboot", "switch"))
    host = _host(svc)
    done, sentence = act(host, "svc", "switch", "app#0 is stdby down", active=False)
    assert done and "not active here: nothing to stop" in sentence
    assert host.coord.targets["svc"]["failed"] == {"n1": "app#0 is stdby down"}
    done, sentence = act(_host(svc), "svc", "freezestop", "x", active=False)
    assert not done and "not active here" in sentence


def test_standalone_refuses_switch_and_none_only_reports(tmp_path):
    svc = _service(tmp_path, MONITORED.replace("freezestop reboot", "switch"))
    assert "needs a cluster" in (refused(_host(svc, clustered=False), "switch") or "")
    svc = _service(tmp_path, MONITORED.replace("freezestop reboot", "none"))
    host, store = _host(svc), Store()
    rt = SimpleNamespace(name="svc", service=svc, state="started", started=True, target={})
    take(host, rt, _firing(store), Marks(), "app#0", "app#0 is down")
    assert host.coord.targets == {}
    assert store.records[0].status == "failed"
    assert store.records[0].reason == "app#0 is down; monitor_action none: reported only"


@pytest.mark.parametrize(("state", "target", "why"), [
    ("stopping", {}, "the instance is stopping (a start, stop or fence in progress)"),
    ("fenced", {}, "the instance is fenced (a start, stop or fence in progress)"),
    ("started", {"state": "stopped"}, "a stop was requested"),
    ("stopped", {"state": "stopped"}, "a stop was requested"),  # standby ones too
    ("started", {"node": "n2"}, "a switch to n2 was requested"),
    ("started", {"failed": {"n1": "x"}}, "this node is marked failed for the service "
                                         "(it is leaving)"),
    ("started", {"frozen": True}, "frozen: no restart and no monitor action (thaw to resume)"),
    ("started", {}, None),
])
def test_monitoring_never_fights_a_stop_a_switch_or_a_fence(tmp_path, state, target, why):
    svc = _service(tmp_path, MONITORED)
    rt = SimpleNamespace(name="svc", service=svc, state=state, started=state == "started",
                         target=target)
    assert quiet_reason(_host(svc), rt, _firing(Store())) == why


def test_not_allowed_by_the_scheduler_or_fenced_means_quiet(tmp_path):
    svc = _service(tmp_path, MONITORED)
    rt = SimpleNamespace(name="svc", service=svc, state="started", started=True, target={})
    assert quiet_reason(_host(svc), rt, _firing(Store(), allowed=False)) == (
        "the scheduler no longer runs it here")
    host = _host(svc, fence=SimpleNamespace(fenced=True))
    assert quiet_reason(host, rt, _firing(Store())) == "this node fenced itself"


def test_clear_resets_the_counts_through_the_target_or_standalone_the_local_state(tmp_path):
    from orchestrator.actions import lifecycle
    from orchestrator.jobs.monitor import marks_of

    svc = _service(tmp_path, MONITORED)
    rt = SimpleNamespace(name="svc", service=svc, target={"cleared": 1}, monitor=None)
    marks = marks_of(rt)
    marks.resources["app#0"] = Mark(attempts=2)
    marks.totals["app#0"] = 2
    assert marks_of(rt).resources  # nothing cleared since
    rt.target = {"cleared": 2}  # svcmgr clear, cluster
    assert marks_of(rt).resources == {} and marks.totals == {}
    rt = SimpleNamespace(name="svc", service=svc, target=None, monitor=None)  # standalone
    marks = marks_of(rt)
    marks.action = "none"
    assert lifecycle.clear(svc) == 0
    assert marks_of(rt).action is None and marks.cleared == 1


def test_a_run_still_in_progress_makes_the_next_slot_a_no_op(tmp_path, monkeypatch):
    from orchestrator.jobs import monitor

    started, release, calls = threading.Event(), threading.Event(), []

    def slow(host: Any, firing: Any) -> None:
        calls.append(firing)
        started.set()
        release.wait(5)

    monkeypatch.setattr(monitor, "_run", slow)
    first = threading.Thread(target=monitor.run_monitor, args=(None, _firing(Store())))
    first.start()
    assert started.wait(5)
    monitor.run_monitor(None, _firing(Store()))  # skipped: the first still runs
    release.set()
    first.join(5)
    assert len(calls) == 1
    monitor.run_monitor(None, _firing(Store()))
    assert len(calls) == 2


def test_pre_monitor_action_runs_before_the_action_and_its_failure_is_only_logged(tmp_path):
    out = tmp_path / "pre.out"
    svc = _service(tmp_path, MONITORED.replace("freezestop reboot", "none")
                   .replace("[app#0]", f"pre_monitor_action = sh -c 'echo $OPENSVC_RID >> {out}"
                                       "; exit 3'\n[app#0]"))
    host, store = _host(svc), Store()
    rt = SimpleNamespace(name="svc", service=svc, state="started", started=True, target={})
    take(host, rt, _firing(store), Marks(), "app#0", "app#0 is down")
    assert out.read_text() == "app#0\n"
    assert store.records[0].reason == "app#0 is down; monitor_action none: reported only"
