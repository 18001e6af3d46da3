"""Start order with subsets (om3's resource sets): within a driver group, the resources
with no subset first, then each subset in name order; a subset with parallel = true is one
step whose members act side by side. And OpenSVC's env rule: a service that is not PRD does
not start on a PRD node."""

from __future__ import annotations

from orchestrator.actions import lifecycle
from orchestrator.config.node import NodeConfig
from orchestrator.config.service import parse_service
from orchestrator.paths import NodePaths
from orchestrator.service import Service


def service(text: str, tmp_path, node_env: str = "TST") -> Service:
    node = NodeConfig("n1", NodePaths(tmp_path), {"node": {"env": node_env}})
    return Service(parse_service(text, "/x/svc.conf", "svc", "n1",
                                 node.service_context()), node)


def test_subsets_order_and_parallel_steps(tmp_path):
    svc = service("[subset#app:b]\nparallel = true\n"
                  "[app#1]\nstart = a\nsubset = b\n[app#2]\nstart = a\nsubset = b\n"
                  "[app#3]\nstart = a\nsubset = a\n[app#4]\nstart = a\n"
                  "[app#5]\nstart = a\nsubset = a\n", tmp_path)
    steps = [[rc.rid for rc in step] for step in lifecycle._lifecycle_steps(svc)]
    assert steps == [["app#4"], ["app#3"], ["app#5"], ["app#1", "app#2"]]


def test_no_subset_keeps_the_drivers_order(tmp_path):
    svc = service("[app#10]\nstart = a\n[app#2]\nstart = a\n", tmp_path)
    assert [[rc.rid for rc in s] for s in lifecycle._lifecycle_steps(svc)] == \
        [["app#2"], ["app#10"]]


def test_the_unnamed_subset_of_a_group_can_be_parallel(tmp_path):
    svc = service("[subset#app]\nparallel = true\n[app#1]\nstart = a\n[app#2]\nstart = a\n"
                  "[app#3]\nstart = a\nsubset = z\n", tmp_path)
    assert [[rc.rid for rc in s] for s in lifecycle._lifecycle_steps(svc)] == \
        [["app#1", "app#2"], ["app#3"]]


def test_a_non_prd_service_is_refused_on_a_prd_node(tmp_path):
    text = "[DEFAULT]\nenv = DEV\n"
    refused = lifecycle.env_refusal(service(text, tmp_path, node_env="PRD"))
    assert refused == ("not started: svc is env DEV and this node is PRD: a service that is "
                       "not PRD does not start on a PRD node")
    assert lifecycle.env_refusal(service("[DEFAULT]\nenv = PRD\n", tmp_path, "PRD")) is None
    assert lifecycle.env_refusal(service("[DEFAULT]\nenv = PRD\n", tmp_path, "DEV")) is None
    assert lifecycle.env_refusal(service(text, tmp_path, node_env="DEV")) is None
    assert lifecycle.start(service(text, tmp_path, node_env="PRD")) == 1
