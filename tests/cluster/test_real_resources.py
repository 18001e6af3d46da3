"""Issue 13 with real daemons: two nodes on one host run one service of real resources (an
address, ext4 on a loop disk, a container, a simple app, a podman task writing into the
filesystem). It starts on one node only; a switch moves every part and the filesystem's
data; the agent's SIGKILL fails it over (the node's fence keeper stops what it ran first);
a stop leaves nothing behind. See resources_support.py for the service."""

from __future__ import annotations

import time

import pytest
from daemons import wait_until
from resources_support import RealParts, real_parts
from sched_support import runs_json

pytestmark = pytest.mark.usefixtures("testbox")


def held_only_by(parts: RealParts, c, node: str) -> bool:
    return all(parts.held_by(c, node).values())


def backups(parts: RealParts, node: str) -> list[str]:
    path = parts.mnt(node) / "backups"
    return path.read_text().splitlines() if path.exists() else []


def test_a_service_of_real_resources_starts_switches_fails_over_and_stops(
        make_cluster, tmp_path):
    svc = "real1"
    with real_parts(tmp_path, svc) as parts:
        c = make_cluster(names=("n1", "n2"))
        try:
            c.start()
            c.wait_joined()
            t0 = time.monotonic()
            c.create(svc, parts.config())
            wait_until(lambda: held_only_by(parts, c, "n1"), 60,
                       what=f"everything on n1 ({parts.held_by(c, 'n1')})")
            print(f"created -> up on n1 in {time.monotonic() - t0:.2f}s")
            st = wait_until(lambda: (s := c.svc_status(svc, "n2"))["avail"] == "up" and s, 20,
                            what="avail up")
            assert st["active_node"] == "n1"
            assert {rid: r["status"] for rid, r in st["resources"].items()
                    if rid != "task#backup"} == {
                "ip#0": "up", "disk#1": "up", "fs#1": "up", "container#web": "up",
                "app#0": "up"}, st["resources"]
            assert parts.net.ping(parts.address)
            wait_until(lambda: "backup by n1" in backups(parts, "n1"), 20,
                       what="the podman task wrote into the filesystem on n1")

            # switch: the address, the mount, the container, the process and the data move
            t0 = time.monotonic()
            c.svc("n1", svc, "switch", "--to", "n2", check=True)
            print(f"switch n1 -> n2 in {time.monotonic() - t0:.2f}s")
            assert held_only_by(parts, c, "n2"), parts.held_by(c, "n2")
            assert parts.net.ping(parts.address)
            assert "backup by n1" in backups(parts, "n2")  # n1's data, now mounted on n2
            wait_until(lambda: "backup by n2" in backups(parts, "n2"), 20,
                       what="the task running on n2")
            records = runs_json(c, "n1", svc, "task#backup")
            assert {r["node"] for r in records if r["status"] == "ok"} == {"n1", "n2"}
            assert all(r["exit_code"] == 0 for r in records if r["status"] == "ok")

            # SIGKILL of n2's agent: its keeper stops everything there, n1 takes it over
            t0 = time.monotonic()
            c.kill("n2")
            wait_until(lambda: held_only_by(parts, c, "n1"), 60,
                       what=f"everything back on n1 ({parts.held_by(c, 'n1')})")
            print(f"agent SIGKILL on n2 -> up on n1 in {time.monotonic() - t0:.2f}s")
            lines = backups(parts, "n1")
            assert "backup by n1" in lines and "backup by n2" in lines

            # stop: nothing left anywhere
            c.start("n2")
            c.wait_joined()
            c.svc("n1", svc, "stop", check=True)
            wait_until(lambda: parts.nothing_held(c), 30, what="nothing held")
            assert not parts.net.ping(parts.address)
        finally:
            c.close()
