"""The driver registry is the one place drivers are declared: the keyword table, the
lifecycle order and what counts in avail all follow it."""

from __future__ import annotations

from orchestrator.config.keywords import RESOURCE_DRIVERS, SERVICE_SECTIONS
from orchestrator.execution.executors import HostExecutor, executor_for
from orchestrator.resources import registry


def test_sections_and_lifecycle_follow_the_registry():
    assert set(RESOURCE_DRIVERS) == set(registry.DRIVERS) == {"app", "task", "sync"}
    assert SERVICE_SECTIONS[0] == "DEFAULT"
    assert registry.lifecycle_groups() == ["app"]
    assert [g for g, s in registry.DRIVERS.items() if s.avail] == ["app"]


def test_every_driver_module_implements_what_its_row_promises():
    for group, spec in registry.DRIVERS.items():
        module = registry.implementation(group)
        assert callable(module.status), group
        if spec.lifecycle:
            assert callable(module.start) and callable(module.stop), group


def test_tasks_run_on_the_host_unless_their_type_says_otherwise():
    assert isinstance(executor_for(None), HostExecutor)
    assert isinstance(executor_for("host"), HostExecutor)
