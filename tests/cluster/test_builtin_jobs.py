"""Built-in jobs with real daemons, a real collector and real rsync: every job lands in the
collector, and sync keeps the passive node's copy fresh before a failover."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from daemons import wait_until

TOKEN = "t0ken"


def start_collector(tmp: Path, cluster: str) -> tuple[subprocess.Popen[str], str]:
    exe = Path(sys.executable).with_name("orchestrator-collector")
    proc = subprocess.Popen([str(exe), "serve", "--listen", "127.0.0.1:0", "--db",
                             str(tmp / "collector.db"), "--token", f"{cluster}={TOKEN}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    assert line.startswith("listening on "), (line, proc.stderr.read() if proc.stderr else "")
    return proc, line.split()[-1].rstrip("/")


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def test_builtin_jobs_reach_the_collector_and_sync_feeds_the_passive_node(make_cluster,
                                                                        tmp_path):
    c = make_cluster(names=("n1", "n2"))
    collector, url = start_collector(tmp_path, c.cluster)
    try:
        for node in c.nodes.values():
            conf = node.root / "etc" / "orchestrator" / "node.conf"
            conf.write_text(conf.read_text() + f"\n[collector]\nurl = {url}\ntoken = {TOKEN}\n")
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
            services = {s["service"]: s for s in get(f"{url}/api/v1/services")}
            runs = {r["rid"] for r in get(f"{url}/api/v1/runs?service=svc1&limit=50")}
            return (services.get("svc1", {}).get("active_node") == "n1"
                    and bool(get(f"{url}/api/v1/configs?service=svc1"))
                    and any(r["key"] == "driver" for r in
                            get(f"{url}/api/v1/resinfo?service=svc1"))
                    and any(r["module"] == "motd" and r["status"] == "ok"
                            for r in get(f"{url}/api/v1/compliance?service=svc1"))
                    and {"task#0", "sync#0", "compliance_auto"} <= runs)

        wait_until(landed, 20, interval=0.3, what="every built-in job in the collector")
        config = get(f"{url}/api/v1/configs?service=svc1")[0]
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
        collector.wait()
