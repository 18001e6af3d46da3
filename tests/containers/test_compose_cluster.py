"""docker-compose.yml run for real on podman (deploy/compose.sh): 3 ZooKeeper members, 3
nodes and the collector in containers on a network of the test's own.

One story, as the issue tells it: up; a failover service with an app and scheduled tasks
(one every second, one long run) starts on one node; that node's container is cut off
the network (its link down in its namespace); the service fails over, and the cut node
fences itself first: its app stopped and its long task killed before the new node starts,
no slot run twice; heal: the node rejoins, passive, and the fenced run's record arrives;
down leaves no container, network, volume or API process behind.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from compose_support import ComposeCluster
from podman_api import free_subnets

pytestmark = [pytest.mark.containers, pytest.mark.timeout(900)]

NODES = ("n1", "n2", "n3")
SERVICE = """\
[DEFAULT]
nodes = n1 n2 n3
orchestrate = ha

[app#0]
start = echo "$(date +%s.%N) start {nodename}" >> /tmp/events && touch /tmp/app.up
stop = rm -f /tmp/app.up && echo "$(date +%s.%N) stop {nodename}" >> /tmp/events
check = test -f /tmp/app.up

[task#0]
command = sh -c 'echo "$(date +%s.%N) {nodename} $ORCHESTRATOR_SCHEDULED_AT" >> /tmp/runs'
schedule = @1s

[task#1]
command = sleep 600
schedule = @1h
"""


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (AssertionError, ValueError, KeyError):  # a CLI not answering yet
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(0.5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(container_images: None, tmp_path) -> Iterator[ComposeCluster]:
    subnets = free_subnets()
    assert subnets, "no free /28 in 198.51.100.0/25 for the compose network"
    made = ComposeCluster(tmp_path / "run", str(subnets[0]), free_port())
    try:
        yield made
    finally:
        if made.leftovers():  # the test failed before its own down
            print(made.down().stderr[-3000:])
            made.force_clean()


def up_members(c: ComposeCluster, observer: str) -> set[str]:
    nodes = c.status(observer)["nodes"]
    return {n for n, info in nodes.items() if info["state"] == "up"}


def active_node(c: ComposeCluster, observer: str) -> str | None:
    out = c.exec(observer, "svcmgr", "-s", "svc1", "print", "status", "--format", "json")
    return json.loads(out.stdout)["active_node"]


def app_up(c: ComposeCluster, node: str) -> bool:
    return c.sh(node, "test -f /tmp/app.up && echo yes || true").strip() == "yes"


def long_task_running(c: ComposeCluster, node: str) -> bool:
    return bool(c.sh(node, "pgrep -x sleep || true").strip())


def events(c: ComposeCluster, node: str) -> list[tuple[float, str]]:
    lines = c.sh(node, "cat /tmp/events 2>/dev/null || true").split()
    return [(float(ts), what) for ts, what, _ in zip(lines[::3], lines[1::3], lines[2::3],
                                                     strict=True)]


def runs(c: ComposeCluster, node: str) -> list[tuple[float, str]]:
    """(when it ran, its slot) of every task#0 run on ``node``."""
    out = c.sh(node, "cat /tmp/runs 2>/dev/null || true")
    return [(float(parts[0]), parts[2]) for parts in map(str.split, out.splitlines())]


def test_compose_cluster_fails_over_a_cut_node_which_fences_itself(cluster: ComposeCluster):
    c = cluster
    c.up()  # waits until n1, n2 and n3 are up
    status = c.status()
    assert set(status["nodes"]) == set(NODES), status
    assert up_members(c, "n2") == set(NODES)
    c.exec("n1", "sh", "-c", "cat > /tmp/svc1.conf", stdin=SERVICE)
    c.exec("n1", "svcmgr", "-s", "svc1", "create", "--config", "/tmp/svc1.conf")

    first = wait_until(lambda: active_node(c, "n1"), 30, "the service placed")
    wait_until(lambda: app_up(c, first) and len(runs(c, first)) >= 3
               and long_task_running(c, first), 30, f"app, tasks and long run on {first}")
    assert [n for n in NODES if app_up(c, n)] == [first]
    observer = next(n for n in NODES if n != first)

    t_cut = time.time()
    c.cut(first)
    second = wait_until(lambda: (lambda a: a if a not in (None, first) else None)(
        active_node(c, observer)), 40, "the service to fail over")
    wait_until(lambda: app_up(c, second), 30, f"the app up on {second}")
    assert first not in up_members(c, observer), "the cut node still counted up"

    # the cut node fenced itself: app stopped, long task killed, before the other started
    assert not app_up(c, first) and not long_task_running(c, first)
    stop_first = [ts for ts, what in events(c, first) if what == "stop"]
    start_second = [ts for ts, what in events(c, second) if what == "start"]
    assert len(stop_first) == 1 and len(start_second) == 1, (stop_first, start_second)
    assert t_cut < stop_first[0] < start_second[0], (t_cut, stop_first, start_second)
    # by its fence keeper or its agent, whichever came first
    assert re.search(r"fenc\w*\b.*\b(stopping|stopped) svc1", c.logs(first)), "no fence logged"
    wait_until(lambda: len([r for r in runs(c, second) if r[0] > start_second[0]]) >= 3, 30,
               f"task#0 running on {second}")
    ran_first, ran_second = runs(c, first), runs(c, second)
    assert all(ts < stop_first[0] for ts, _ in ran_first), "the cut node ran a task after its fence"
    assert not {slot for _, slot in ran_first} & {slot for _, slot in ran_second}, \
        "a slot ran on both nodes"

    # heal: the node comes back passive; its fenced long run is on record
    c.heal(first)
    wait_until(lambda: first in up_members(c, observer), 60, f"{first} back in the cluster")
    records = wait_until(
        lambda: [r for r in json.loads(c.exec(second, "svcmgr", "-s", "svc1", "print", "runs",
                                              "--format", "json", "--rid", "task#1").stdout)
                 if r["status"] == "interrupted" and r["node"] == first], 30,
        "the fenced long run's record")
    assert "fenced" in (records[0].get("reason") or ""), records
    time.sleep(3)
    assert active_node(c, first) == second and active_node(c, observer) == second
    assert not app_up(c, first) and app_up(c, second)
    assert len(runs(c, first)) == len(ran_first), "the healed node ran task#0 again"

    down = c.down()
    assert down.returncode == 0, down.stderr[-3000:]
    assert c.leftovers() == {}, c.leftovers()
