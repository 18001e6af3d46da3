"""The session ``zk_hosts`` fixture yields exactly once, whatever its teardown does.

Its order of choice is tests/zk_sources.py's; here the engine check, the containers and the
local server are stand-ins, to reach the two failure paths a real engine rarely takes.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import zk_containers
import zk_sources

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def _conftest():
    spec = importlib.util.spec_from_file_location("_root_conftest_under_test", CONFTEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeEnsemble:
    started: list[Path] = []

    def __init__(self, path: Path, size: int) -> None:
        self.hosts = "127.0.0.1:1"
        self.path = path

    def start(self) -> None:
        FakeEnsemble.started.append(self.path)

    def stop(self) -> None:
        pass


def test_container_teardown_failure_is_reported_not_followed_by_a_second_yield(
        monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    conftest = _conftest()

    @contextlib.contextmanager
    def containers(size: int = 1) -> Iterator[SimpleNamespace]:
        yield SimpleNamespace(hosts="container:2181")
        raise RuntimeError("container.stop() failed")

    monkeypatch.setattr(zk_sources, "engine_answers", lambda: True)
    monkeypatch.setattr(zk_containers, "zookeeper_containers", containers)
    monkeypatch.setattr(zk_sources, "ZooKeeperEnsemble", FakeEnsemble)
    monkeypatch.delenv("ZOOKEEPER_HOSTS", raising=False)
    FakeEnsemble.started.clear()

    fixture = conftest.zk_hosts.__wrapped__(tmp_path_factory)
    assert next(fixture) == "container:2181"
    with pytest.raises(RuntimeError, match=r"container.stop\(\) failed"):
        next(fixture)  # teardown: the error surfaces; no fallback server, no second value
    assert FakeEnsemble.started == []


def test_container_start_failure_falls_back_to_the_local_server(
        monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    conftest = _conftest()

    @contextlib.contextmanager
    def containers(size: int = 1) -> Iterator[SimpleNamespace]:
        raise RuntimeError("no image")
        yield SimpleNamespace(hosts="")  # pragma: no cover - a generator

    monkeypatch.setattr(zk_sources, "engine_answers", lambda: True)
    monkeypatch.setattr(zk_containers, "zookeeper_containers", containers)
    monkeypatch.setattr(zk_sources, "ZooKeeperEnsemble", FakeEnsemble)
    monkeypatch.delenv("ZOOKEEPER_HOSTS", raising=False)
    FakeEnsemble.started.clear()

    fixture = conftest.zk_hosts.__wrapped__(tmp_path_factory)
    assert next(fixture) == "127.0.0.1:1"
    with pytest.raises(StopIteration):
        next(fixture)
    assert len(FakeEnsemble.started) == 1
