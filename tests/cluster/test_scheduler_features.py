"""The daemon's scheduler with real daemons: node-scoped tasks (run_requires lets them run on
passive nodes), cluster-wide max_parallel for manual runs, and broken service configs that
never stop the others from being scheduled (cluster and standalone)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from daemons import _tool, wait_until
from sched_support import duplicates, read_runs, recording_task, runs_json

from orchestrator.coordination import Coordinator


def test_node_scoped_task_runs_per_node_and_max_parallel_holds_for_manual_runs(make_cluster):
    c = make_cluster(names=("n1", "n2"))
    everywhere = c.base / "everywhere"
    slow = c.base / "slow"
    extra = (recording_task(everywhere, "task#0", "* * * * * *",
                            extra="run_requires = app#0(up,down)\n")
             + recording_task(slow, "task#1", "", sleep=3, extra="max_parallel = 1\n"))
    c.start()
    c.wait_joined()
    c.create("svc1", c.ha_config(extra=extra))
    c.wait_up_only_on("n1")
    wait_until(lambda: {r.node for r in read_runs(everywhere)} == {"n1", "n2"}
               and len(read_runs(everywhere)) >= 6, 15, what="runs on both nodes")
    time.sleep(2)
    runs = read_runs(everywhere)
    for node in ("n1", "n2"):
        mine = [r for r in runs if r.node == node]
        assert not duplicates(mine), duplicates(mine)
        assert len(mine) >= 3
    # both nodes ran the same slots (each once)
    common = {r.slot_ts for r in runs if r.node == "n1"} & {r.slot_ts for r in runs
                                                            if r.node == "n2"}
    assert len(common) >= 2

    # max_parallel = 1 across the cluster: `svcmgr run` on both nodes at once, one wins
    results: dict[str, subprocess.CompletedProcess[str]] = {}

    def run(node: str) -> None:
        results[node] = c.svc(node, "svc1", "run", "--rid", "task#1")

    threads = [threading.Thread(target=run, args=(n,)) for n in ("n1", "n2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    codes = sorted(r.returncode for r in results.values())
    assert codes == [0, 1], {n: (r.returncode, r.stderr) for n, r in results.items()}
    assert len(read_runs(slow)) == 1
    records = runs_json(c, "n2", "svc1", "task#1")
    assert sorted(r["status"] for r in records) == ["ok", "refused"], records
    refused = next(r for r in records if r["status"] == "refused")
    assert "max_parallel" in refused["reason"]
    assert {r["origin"] for r in records} == {"manual"}
    # the slot is free again afterwards
    c.svc("n2", "svc1", "run", "--rid", "task#1", check=True)


def test_broken_config_in_cluster_does_not_stop_scheduling_of_others(make_cluster):
    c = make_cluster(names=("n1",))
    good = c.base / "good"
    c.start()
    c.wait_joined()
    # configs that `create` would refuse, put into ZooKeeper directly (another version of
    # the software, a hand edit): sorted before and after the good one
    broken = c.ha_config() + "[task#0]\ncommand = /bin/true\nschedule = every tuesday-ish\n"
    with Coordinator(c.zk, c.cluster, "s3cret", 2.0, "probe") as coord:
        coord.put_service_config("aaa", broken)
        coord.put_service_config("zzz", "[DEFAULT]\nnodes = n1\nbogus = 1\n[app#0\n")
    c.create("mmm", c.ha_config(extra=recording_task(good, "task#0", "@1s")))
    wait_until(lambda: len(read_runs(good)) >= 3, 15, what="the good service's task to run")
    assert "aaa" in c.log("n1") and "zzz" in c.log("n1")
    assert c.nodes["n1"].alive


def test_standalone_daemon_schedules_despite_a_broken_config(tmp_path: Path):
    root = tmp_path / "node"
    services = root / "etc" / "orchestrator" / "services"
    services.mkdir(parents=True)
    (root / "etc" / "orchestrator" / "node.conf").write_text("[node]\nname = solo\n")
    good = tmp_path / "good"
    (services / "aaa.conf").write_text("[DEFAULT]\n[task#0]\ncommand = /bin/true\n"
                                       "schedule = every tuesday-ish\n")
    (services / "bbb.conf").write_text("[DEFAULT\nnot ini at all\n")
    (services / "ccc.conf").write_text("[DEFAULT]\n" + recording_task(good, "task#0", "@1s"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRATOR_")}
    env.update(ORCHESTRATOR_ROOT=str(root), ORCHESTRATOR_LOG_FORMAT="console")
    log = tmp_path / "daemon.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([*_tool("nodemgr"), "daemon", "run"], env=env, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: len(read_runs(good)) >= 3, 15,
                   what="the good service's task to run: " + log.read_text()[-2000:])
        # a broken config appearing later, and the good one edited: still scheduled
        (services / "abc.conf").write_text("[task#0]\ncommand = /bin/true\nschedule = @bad\n")
        n = len(read_runs(good))
        wait_until(lambda: len(read_runs(good)) >= n + 2, 10, what="runs after a new bad config")
        assert proc.poll() is None, log.read_text()
        assert not duplicates(read_runs(good))
        text = log.read_text()
        assert "aaa" in text and "bbb" in text and "abc" in text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        print(log.read_text()[-4000:])
