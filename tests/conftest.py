"""Shared fixtures: a real ZooKeeper for every test that needs one.

``zk_hosts`` (session): ``ZOOKEEPER_HOSTS`` if set; else a testcontainers ZooKeeper when a
Docker API answers a 2 s ping (a container on a network of its own on 198.51.100.0/25);
else a local server from Debian's jars (``orchestrator.devtools.zookeeper``); see
tests/zk_sources.py. If none starts, the fixture fails: never a skip.
``zk_chroot``: ``zk_hosts`` plus a unique chroot, so ephemeral leftovers of one test (they
live a session timeout) never meet the next. ``zk_ensemble``: a fresh 3-member ensemble.
Containers: ``testbox`` (the test image) and ``container_scope`` come from
tests/container_support.py, and CONTAINERS_CONF is exported here for every process.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The package is not installed in the venv: make the checkout importable however pytest runs.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from container_support import (  # noqa: E402, F401 - fixtures for every test directory
    container_scope,
    export_engine_env,
    testbox,
)
from zk_sources import NoZooKeeper, zookeeper_for_tests  # noqa: E402

from orchestrator.devtools.zookeeper import (  # noqa: E402
    ZooKeeperEnsemble,
    ZooKeeperHarnessError,
)

# A shell that starts pytest in the background (``cmd &`` without job control) ignores
# SIGINT for it, and an ignored signal stays ignored across exec: every svcmgr the tests
# start would then shrug off the Ctrl-C the tests send it. Give the tests' processes the
# disposition a terminal's would have (found: the Ctrl-C test failed only when the suite
# was started so).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# podman's configuration for this machine (tests/containers.conf) in every process the
# tests start: the CLI, daemons, fence keepers (tests/container_support.py says why)
export_engine_env()


@pytest.fixture(scope="session")
def zk_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The order of choice is tests/zk_sources.py's: ZOOKEEPER_HOSTS, testcontainers, local."""
    with contextlib.ExitStack() as stack:
        try:
            source = stack.enter_context(zookeeper_for_tests(tmp_path_factory.mktemp("zookeeper")))
        except NoZooKeeper as exc:
            pytest.fail(f"no ZooKeeper for the tests: {exc}", pytrace=False)
        yield source.hosts


@pytest.fixture
def zk_chroot(zk_hosts: str, request: pytest.FixtureRequest) -> str:
    """A connect string with a chroot of its own: ``host:port[,...]/tests/<test>-<uuid>``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:60]
    return f"{zk_hosts.rstrip('/')}/tests/{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def zk_ensemble(tmp_path: Path) -> Iterator[ZooKeeperEnsemble]:
    """A fresh local 3-member ensemble (needs Debian's zookeeper package); failure fails."""
    ensemble = ZooKeeperEnsemble(tmp_path / "ensemble", size=3)
    try:
        ensemble.start()
    except ZooKeeperHarnessError as exc:
        pytest.fail(f"could not start a 3-member ZooKeeper ensemble: {exc}", pytrace=False)
    try:
        yield ensemble
    finally:
        ensemble.stop()


# ---------------------------------------------------------------------------- the summary
# CI reads its output, not the test ids: one line per suite says what ran there, so a suite
# that silently stopped running (no engine, no ZooKeeper, a marker deselected) shows.
_OUTCOMES: dict[str, dict[str, int]] = {}


def _suite_of(item: pytest.Item) -> str:
    if item.get_closest_marker("containers") is not None:
        return "containers"
    parts = Path(str(item.fspath)).relative_to(Path(__file__).parent).parts
    return parts[0] if len(parts) > 1 else "tests"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        suite = getattr(report, "suite", None) or "tests"
        counts = _OUTCOMES.setdefault(suite, {})
        counts[report.outcome] = counts.get(report.outcome, 0) + 1


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    outcome.get_result().suite = _suite_of(item)  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _OUTCOMES:
        return
    terminalreporter.section("suites")
    for suite, counts in sorted(_OUTCOMES.items()):
        said = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        terminalreporter.write_line(f"{suite}: {said}")
