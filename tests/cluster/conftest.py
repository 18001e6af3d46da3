"""Fixtures for tests with real node agents (see daemons.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemons import Cluster

MakeCluster = Callable[..., Cluster]


@pytest.fixture
def make_cluster(tmp_path: Path, zk_chroot: str) -> Iterator[MakeCluster]:
    """``make_cluster(names=..., zk=..., zk_for=...)``: a Cluster under a unique chroot and
    cluster name; every daemon is killed on teardown and the logs printed (pytest shows
    them only for a failed test)."""
    made: list[Cluster] = []

    def make(**kw: object) -> Cluster:
        kw.setdefault("zk", zk_chroot)
        cluster = Cluster(tmp_path / f"cluster{len(made)}", **kw)  # type: ignore[arg-type]
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.close()
        print(cluster.dump_logs())


@pytest.fixture
def app_cluster(make_cluster: MakeCluster) -> Iterator[MakeCluster]:
    """``make_cluster``, plus the detached apps of monitor_support.py killed at teardown
    (nothing the harness kills is their parent)."""
    from monitor_support import kill_all_apps

    made: list[Cluster] = []

    def make(**kw: object) -> Cluster:
        c = make_cluster(**kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
        kill_all_apps(c)
