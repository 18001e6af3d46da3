"""The job-kind registry, the one "may it run here, and if not, why" rule (runnable) and the
print schedule table built on them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestrator.config.node import NodeConfig, load_node_config
from orchestrator.config.service import parse_service
from orchestrator.jobs import (
    KINDS,
    NODE,
    NODE_VIEW,
    Job,
    RunView,
    kind,
    kind_of,
    node_jobs,
    runnable,
    schedule_table,
    service_jobs,
)
from orchestrator.paths import NodePaths
from orchestrator.service import Service

NOW = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)
CONFIG = """
[DEFAULT]
status_schedule = @10
run_schedule = @30
misfire = skip
misfire_grace = 1m
tz = Europe/Paris

[task#0]
command = /bin/true
schedule = @1h
misfire = once

[task#1]
command = /bin/true
run_requires = app#0(up)

[task#2]
command = /bin/true
confirmation = true

[task#3]
command = /bin/true
schedule = @0

[app#0]
start = /bin/true
check = /bin/false

[sync#0]
src = /tmp
"""


def node_config(tmp_path: Path, text: str = "[node]\nname = n1\n") -> NodeConfig:
    conf = tmp_path / "etc" / "orchestrator" / "node.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(text)
    return load_node_config(NodePaths(tmp_path))


def service(tmp_path: Path, text: str = CONFIG) -> Service:
    node = node_config(tmp_path)
    return Service(parse_service(text, "svc.conf", "svc", node.nodename), node)


def test_one_kind_per_owner_and_action_each_with_jobs_and_a_runner():
    keys = [(k.owner, k.action) for k in KINDS]
    assert len(keys) == len(set(keys))
    assert {a for o, a in keys if o == "service"} == {
        "compliance_auto", "push_config", "push_resinfo", "status", "sync_all", "run",
        "resource_monitor"}
    assert {a for o, a in keys if o == "node"} == {"compliance_auto", "pushasset"}
    assert all(callable(k.jobs) and callable(k.run) for k in KINDS)
    job = Job("compliance_auto", None, "node.comp_schedule", "@1h")
    assert kind_of(NODE, job) is kind("node", "compliance_auto")
    assert kind_of("svc", job) is kind("service", "compliance_auto")
    assert kind("service", "resource_monitor").action == "resource_monitor"
    with pytest.raises(KeyError):
        kind("node", "resource_monitor")


def test_a_services_jobs_in_order_with_their_schedule_misfire_and_scope(tmp_path):
    jobs = service_jobs(service(tmp_path))
    assert [(j.action, j.rid) for j in jobs] == [
        ("compliance_auto", None), ("push_config", None), ("push_resinfo", None),
        ("status", None), ("sync_all", "sync#0"), ("run", "task#0"), ("run", "task#1"),
        ("run", "task#2"), ("run", "task#3")]
    by = {j.key: j for j in jobs}
    assert by["status"].node_scoped and by["task#1"].node_scoped
    assert not by["task#0"].node_scoped and not by["compliance_auto"].node_scoped
    assert (by["task#0"].config_parameter, by["task#0"].schedule_definition) == (
        "task#0.schedule", "@1h")
    assert (by["task#1"].config_parameter, by["task#1"].schedule_definition) == (
        "DEFAULT.run_schedule", "@30")
    assert (by["task#0"].misfire, by["task#1"].misfire) == ("once", "skip")  # rc, else DEFAULT
    assert by["task#0"].misfire_grace == by["status"].misfire_grace == 60
    assert by["task#0"].tz == "Europe/Paris"
    assert by["task#0"].splay_key == "svc/task#0/n1"
    no_collector = "no collector configured ([collector] url in node.conf)"
    assert by["push_config"].why_not == by["push_resinfo"].why_not == no_collector
    assert by["task#2"].why_not == "confirmation task: never scheduled"
    assert by["task#3"].why_not == "unscheduled"
    assert by["status"].why_not is None and by["task#0"].why_not is None


def test_the_nodes_jobs_follow_node_conf(tmp_path):
    node = node_config(tmp_path, "[node]\nname = n1\npushasset_schedule = @1h\n"
                                 "comp_schedule = @0\nmisfire = skip\nmisfire_grace = 30s\n")
    jobs = {j.action: j for j in node_jobs(node)}
    assert list(jobs) == ["compliance_auto", "pushasset"]
    push = jobs["pushasset"]
    assert (push.config_parameter, push.schedule_definition, push.why_not) == (
        "node.pushasset_schedule", "@1h", None)
    assert (push.misfire, push.misfire_grace, push.node_scoped) == ("skip", 30, True)
    assert push.splay_key == "node/pushasset/n1"
    assert jobs["compliance_auto"].why_not == "unscheduled"


JOB = Job("run", "task#0", "task#0.schedule", "@1h")
SCOPED = Job("run", "task#1", "task#1.schedule", "@1h", node_scoped=True)


@pytest.mark.parametrize(("view", "job", "why"), [
    (RunView(), JOB, None),  # standalone: always here
    (NODE_VIEW, Job("pushasset", None, "node.pushasset_schedule", "@1h"), None),
    (RunView(), Job("run", "task#2", "p", "@1h", why_not="disabled"), "disabled"),
    (RunView(loaded=False), JOB, "the service's config is not usable on this node"),
    (RunView(clustered=True, connected=False, holder="n1", here="n1"), JOB,
     "the cluster store cannot be reached (ZooKeeper connection lost or suspended)"),
    (RunView(clustered=True, holder="n1", here="n1"), JOB, None),
    (RunView(clustered=True, holder=None, here="n1"), SCOPED, None),  # node-scoped: no lease
    (RunView(clustered=True, holder="n2", here="n1"), JOB,
     "not the active instance: the service is active on n2"),
    (RunView(clustered=True, holder=None, here=None), JOB,
     "not the active instance: the service is active on no node"),
    (RunView(clustered=True, holder="n2", here=None), JOB, None),  # print: it runs on n2
])
def test_runnable_says_whether_a_job_may_run_and_why_not(view, job, why):
    assert runnable(view, job) == why


def _claim(run_at: datetime) -> SimpleNamespace:
    return SimpleNamespace(payload={"slot": run_at.isoformat(), "run_at": run_at.isoformat()},
                           claimed_at=run_at.timestamp())


def test_print_schedule_in_a_cluster_takes_last_runs_from_claims_like_the_scheduler(tmp_path):
    svc = service(tmp_path)
    svc.clustered, svc.active_node = True, None
    asked = []
    older, newest = datetime(2026, 3, 1, 8, tzinfo=UTC), datetime(2026, 3, 1, 9, tzinfo=UTC)

    def claims(name, job, node=None):
        asked.append((name, job, node))
        return [_claim(older), _claim(newest)] if job in ("task#0", "status") else []

    svc.claims = claims
    rows = {e.job.key: e for e in schedule_table(svc, NOW)}
    assert rows["task#0"].last_run == newest  # the newest claim, not a run record
    assert rows["status"].last_run == newest
    assert ("svc", "status", "n1") in asked  # node-scoped: this node's claims
    assert ("svc", "task#0", None) in asked
    # why not: the scheduler's rule; no holder, so the failover task runs nowhere
    assert rows["task#0"].why_not == "not the active instance: the service is active on no node"
    assert rows["task#0"].runs_on is None and rows["task#0"].next_run is not None
    assert rows["status"].why_not is None and rows["status"].runs_on == "n1"
    assert rows["task#1"].why_not.startswith("requirements not met: app#0 is ")
    svc.active_node = "n2"
    rows = {e.job.key: e for e in schedule_table(svc, NOW)}
    assert rows["task#0"].why_not is None and rows["task#0"].runs_on == "n2"


def test_print_schedule_standalone_takes_the_daemons_last_run_then_records(tmp_path):
    svc = service(tmp_path)
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    state = svc.var / "scheduler.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"last": {"status": when.isoformat()}}))
    rows = {e.job.key: e for e in schedule_table(svc, NOW)}
    assert rows["status"].last_run == when  # the standalone daemon's own (no record for it)
    assert rows["task#0"].last_run is None  # no daemon run, no record
    assert rows["task#0"].runs_on == "n1" and rows["task#0"].why_not is None
