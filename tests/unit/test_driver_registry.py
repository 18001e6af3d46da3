"""The driver registry is the one place drivers are declared: the keyword table, the
lifecycle order and what counts in avail all follow it."""

from __future__ import annotations

from orchestrator.config.keywords import RESOURCE_DRIVERS, SERVICE_SECTIONS
from orchestrator.execution.executors import HostExecutor, executor_for
from orchestrator.resources import registry

# every driver, with OpenSVC's start order of those started with the service (stop reverses)
DRIVERS = {"ip", "disk", "fs", "container", "app", "task", "sync"}
LIFECYCLE = ["ip", "disk", "fs", "container", "app"]


def test_sections_and_lifecycle_follow_the_registry():
    assert set(RESOURCE_DRIVERS) == set(registry.DRIVERS) == DRIVERS
    assert SERVICE_SECTIONS[0] == "DEFAULT"
    assert registry.lifecycle_groups() == LIFECYCLE
    assert {g for g, s in registry.DRIVERS.items() if s.avail} == set(LIFECYCLE)


def test_exposed_devices_are_declared_where_they_are_offered():
    assert {g: s.exposes for g, s in registry.DRIVERS.items() if s.exposes} == {
        "disk": ("exposed_devs",)}
    for group, spec in registry.DRIVERS.items():
        if spec.exposes:
            assert callable(registry.implementation(group).exposed), group


def test_every_driver_module_implements_what_its_row_promises():
    for group, spec in registry.DRIVERS.items():
        module = registry.implementation(group)
        assert callable(module.status), group
        if spec.lifecycle:
            assert callable(module.start) and callable(module.stop), group


def test_tasks_run_on_the_host_unless_their_type_says_otherwise():
    assert isinstance(executor_for(None), HostExecutor)
    assert isinstance(executor_for("host"), HostExecutor)


def test_container_task_types_run_in_a_container_of_their_engine():
    from orchestrator.execution.container_executor import ContainerExecutor

    assert registry.DRIVERS["container"].types == ("docker", "podman", "oci")
    for kind in ("docker", "podman", "oci"):
        executor = executor_for(kind)
        assert isinstance(executor, ContainerExecutor) and executor.kind == kind
