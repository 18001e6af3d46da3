"""Built-in jobs with real daemons, a real collector and real rsync: every job lands in the
collector, and sync keeps the passive node's copy fresh before a failover."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

from daemons import _tool, wait_until

from orchestrator.devtools.collector import CollectorProcess


def test_builtin_jobs_reach_the_collector_and_sync_feeds_the_passive_node(make_cluster,
                                                                        tmp_path):
    c = make_cluster(names=("n1", "n2"))
    collector = CollectorProcess(tmp_path, tokens={c.cluster: "t0ken"}).start()
    get = collector.get
    try:
        for node in c.nodes.values():
            collector.point(node.root / "etc" / "orchestrator" / "node.conf", c.cluster)
            modules = node.root / "var" / "lib" / "orchestrator" / "compliance" / "modules"
            modules.mkdir(parents=True)
            (modules / "motd").write_text("#!/bin/sh\necho motd ok\nexit 0\n")
            os.chmod(modules / "motd", 0o755)
        data = tmp_path / "data"
        (data / "n1").mkdir(parents=True)
        (data / "n1" / "file").write_text("v1")
        c.start()
        c.wait_joined()
        schedules = ("status_schedule = @1s\nconfig_schedule = @1s\nresinfo_schedule = @1s\n"
                     "comp_schedule = @1s\n")
        resources = (f"\n[sync#0]\nsrc = {data}/{{nodename}}\nschedule = @1s\n\n"
                     "[task#0]\ncommand = /bin/true\nschedule = @1s\n")
        text = c.ha_config(extra=resources).replace("orchestrate = ha\n",
                                                   "orchestrate = ha\n" + schedules, 1)
        c.create("svc1", text)
        wait_until(lambda: c.active_node("svc1") == "n1", 15, what="svc1 active on n1")

        def landed() -> bool:
            services = {s["service"]: s for s in get("/api/v1/services")}
            runs = {r["rid"] for r in get("/api/v1/runs?service=svc1&limit=50")}
            return (services.get("svc1", {}).get("active_node") == "n1"
                    and bool(get("/api/v1/configs?service=svc1"))
                    and any(r["key"] == "driver" for r in get("/api/v1/resinfo?service=svc1"))
                    and any(r["module"] == "motd" and r["status"] == "ok"
                            for r in get("/api/v1/compliance?service=svc1"))
                    and {"task#0", "sync#0", "compliance_auto"} <= runs)

        wait_until(landed, 20, interval=0.3, what="every built-in job in the collector")
        config = get("/api/v1/configs?service=svc1")[0]
        assert "[sync#0]" in config["text"]

        # sync copies a changed file to the passive node before a failover
        wait_until(lambda: (data / "n2" / "file").exists(), 10, what="first sync to n2")
        (data / "n1" / "file").write_text("v2")
        wait_until(lambda: (data / "n2" / "file").read_text() == "v2", 10,
                   what="changed file synchronized to n2")
        c.kill("n1")
        wait_until(lambda: c.active_node("svc1", "n2") == "n2", 15, what="failover to n2")
        assert (data / "n2" / "file").read_text() == "v2"
    finally:
        collector.kill()


def write_module(root: Path, name: str, body: str) -> None:
    modules = root / "var" / "lib" / "orchestrator" / "compliance" / "modules"
    modules.mkdir(parents=True, exist_ok=True)
    (modules / name).write_text(f"#!/bin/sh\n{body}\n")
    os.chmod(modules / name, 0o755)


def test_node_jobs_push_assets_and_compliance_from_every_node(make_cluster, tmp_path):
    c = make_cluster(names=("n1", "n2"))
    collector = CollectorProcess(tmp_path, tokens={c.cluster: "t0ken"}).start()
    try:
        for node in c.nodes.values():
            collector.point(node.root / "etc" / "orchestrator" / "node.conf", c.cluster,
                            "pushasset_schedule = @1s\ncomp_schedule = @1s\n")
            write_module(node.root, "ntp", 'echo "ntp $1 on $ORCHESTRATOR_NODE '
                                           'svc=${ORCHESTRATOR_SVCNAME:-none}"; exit 0')
        c.start()
        c.wait_joined()

        def assets() -> dict:
            nodes = {n["node"]: n["asset"] for n in collector.get("/api/v1/nodes")}
            return nodes if set(nodes) == {"n1", "n2"} else {}

        nodes = wait_until(assets, 20, interval=0.3, what="both nodes' assets in the collector")
        for name, asset in nodes.items():
            assert asset["nodename"] == name and asset["cluster"] == c.cluster
            assert asset["cpu_count"] >= 1 and asset["mem_bytes"] > 2**20
            assert asset["os_name"] == "Linux" and asset["os_release"]
            assert asset["boot_time"] and isinstance(asset["ip_addresses"], list)
            assert asset["orchestrator_version"] and asset["python_version"]

        def node_compliance() -> list:
            rows = [r for r in collector.get("/api/v1/compliance") if r["service"] is None]
            return rows if {r["node"] for r in rows} == {"n1", "n2"} else []

        rows = wait_until(node_compliance, 20, interval=0.3, what="node compliance results")
        for r in rows:
            assert (r["module"], r["status"], r["action"]) == ("ntp", "ok", "check")
            assert r["detail"] == f"ntp check on {r['node']} svc=none"  # node-level: no service

        for name in ("n1", "n2"):  # each run leaves one readable sentence in the daemon's log
            log = c.log(name)
            assert f"node {name}: pushasset: " in log and "asset facts pushed to the collector" in log
            assert (f"node {name}: compliance_auto: 1 module checked (1 ok); pushed to the "
                    "collector") in log

        # print schedule tells the last run the daemon kept in the node's state
        out = c.cli("n2", "print", "schedule", "--format", "json", tool="nodemgr", check=True)
        table = {r["action"]: r for r in json.loads(out.stdout)}
        assert set(table) == {"pushasset", "compliance_auto"}
        assert table["pushasset"]["config_parameter"] == "node.pushasset_schedule"
        assert table["pushasset"]["last_run"] is not None
        assert table["pushasset"]["last_status"] == "ok"

        page = collector.get("/")  # the web page lists both nodes with their facts
        for name in ("n1", "n2"):
            row = re.search(rf'<tr data-node="{name}">(.*?)</tr>', page)
            assert row and "GiB</td>" in row.group(1), page[:3000]
            assert f'class="asset-os">{html.escape(nodes[name]["os_distro"])}<' in row.group(1)
    finally:
        collector.kill()


def test_node_jobs_keep_their_last_run_across_restarts_and_say_why_they_skip(tmp_path):
    """Standalone node, no collector: pushasset is skipped with its reason at each slot;
    compliance_auto (@60: hourly) runs once, and a restarted daemon does not run it again."""
    root = tmp_path / "node"
    conf = root / "etc" / "orchestrator" / "node.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[node]\nname = solo\npushasset_schedule = @1s\ncomp_schedule = @60\n")
    ran = tmp_path / "module-runs"
    write_module(root, "motd", f'echo "$1" >> {ran}; exit 1')  # not compliant
    state = root / "var" / "lib" / "orchestrator" / "node" / "scheduler.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRATOR_")}
    env.update(ORCHESTRATOR_ROOT=str(root), ORCHESTRATOR_LOG_FORMAT="console")

    def daemon(log: Path) -> subprocess.Popen[bytes]:
        with open(log, "wb") as fh:
            return subprocess.Popen([*_tool("nodemgr"), "daemon", "run"], env=env, stdout=fh,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def state_doc() -> dict:
        return json.loads(state.read_text()) if state.exists() else {}

    def stop(proc: subprocess.Popen[bytes]) -> None:
        proc.terminate()
        proc.wait(15)

    first = daemon(tmp_path / "daemon1.log")
    try:
        wait_until(lambda: "compliance_auto" in state_doc().get("last", {})
                   and "pushasset" in state_doc().get("last", {}), 15,
                   what="both node jobs recorded")
    finally:
        stop(first)
    log1 = (tmp_path / "daemon1.log").read_text()
    doc = state_doc()
    assert doc["result"]["pushasset"]["status"] == "skipped"
    assert doc["result"]["pushasset"]["reason"].startswith(
        "skipped: no collector configured ([collector] url and token in ")
    assert "node solo: pushasset: skipped: no collector configured" in log1
    assert doc["result"]["compliance_auto"]["status"] == "failed"
    assert doc["result"]["compliance_auto"]["reason"].startswith("not compliant: motd; ")
    assert "node solo: compliance_auto: not compliant: motd; 1 module checked (1 nok); " \
           "not pushed: no collector configured" in log1
    assert ran.read_text() == "check\n"
    comp_last = doc["last"]["compliance_auto"]

    out = subprocess.run([*_tool("nodemgr"), "print", "schedule", "--format", "json"], env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    table = {r["action"]: r for r in json.loads(out.stdout)}
    assert table["compliance_auto"]["last_run"] == comp_last
    assert table["compliance_auto"]["last_status"] == "failed"
    last = datetime.fromisoformat(comp_last)
    assert datetime.fromisoformat(table["compliance_auto"]["next_run"]) == \
        last + timedelta(hours=1)
    text = subprocess.run([*_tool("nodemgr"), "print", "schedule"], env=env,
                          capture_output=True, text=True, timeout=30).stdout
    assert re.search(r"compliance_auto\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+", text), text

    # restarted: pushasset keeps coming due (skipped), compliance_auto waits for its hour
    skipped_at = doc["result"]["pushasset"]["at"]
    second = daemon(tmp_path / "daemon2.log")
    try:
        wait_until(lambda: state_doc()["result"]["pushasset"]["at"] > skipped_at, 15,
                   what="a pushasset slot after the restart")
        time.sleep(1.5)
    finally:
        stop(second)
    assert ran.read_text() == "check\n"  # not run again
    assert state_doc()["last"]["compliance_auto"] == comp_last
    assert "compliance_auto" not in (tmp_path / "daemon2.log").read_text()
