"""The status push carries the service's frozen flag, which lives in its cluster target."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from orchestrator.jobs import Firing, Job
from orchestrator.jobs import kind as job_kind


class RecordingClient:
    def __init__(self) -> None:
        self.pushes: list[tuple[str, list[Any]]] = []

    def push(self, kind: str, items: list[Any]) -> None:
        self.pushes.append((kind, list(items)))


def _agent(target: Any) -> tuple[Any, RecordingClient]:
    client = RecordingClient()
    inst = SimpleNamespace(avail="up", overall="up", resources={})
    rt = SimpleNamespace(service=SimpleNamespace(name="web"), target=target)
    agent = SimpleNamespace(runtimes={"web": rt}, collector=lambda: client,
                            publish_status=lambda name: inst)
    return agent, client


@pytest.mark.parametrize(("target", "frozen"), [
    ({"state": "started", "frozen": True}, True),
    ({"state": "started", "frozen": False}, False),
    ({"state": "started"}, False),
    (None, False),  # standalone: no target, never frozen (freeze needs a cluster)
])
def test_status_push_carries_the_targets_frozen_flag(target: Any, frozen: bool) -> None:
    agent, client = _agent(target)
    job = Job("status", None, "DEFAULT.status_schedule", "@10m", node_scoped=True)
    job_kind("service", "status").run(agent, Firing("web", job, datetime.now(UTC), datetime.now(UTC)))
    [(kind, [item])] = client.pushes
    assert kind == "status"
    assert item["service"] == "web"
    assert item["frozen"] is frozen
