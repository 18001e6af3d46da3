"""The operator's view of a real two-node cluster with a collector: each node's /metrics
(parsed with prometheus_client's parser) counts the runs the cluster's records say it ran,
before and after a switch; the collector's service page, in headless Chromium, draws the
runs in two lanes with the relocation; ``svcmgr logs`` on n2 reads a run n1 made through
the collector, and says so."""

from __future__ import annotations

import json
import re
import time
from collections import Counter

from daemons import wait_until
from metrics_support import free_port, scrape

from orchestrator.devtools.chromium import dump_dom
from orchestrator.devtools.collector import CollectorProcess


def test_metrics_timeline_and_logs_across_a_switch(make_cluster, tmp_path):
    c = make_cluster(names=("n1", "n2"))
    collector = CollectorProcess(tmp_path, tokens={c.cluster: "t0ken"}).start()
    ports = {name: free_port() for name in c.names}
    try:
        for name, node in c.nodes.items():
            conf = node.root / "etc" / "orchestrator" / "node.conf"
            collector.point(conf, c.cluster)
            conf.write_text(conf.read_text() + f"\n[metrics]\nlisten = 127.0.0.1:{ports[name]}\n")
        c.start()
        c.wait_joined()
        c.create("web", c.ha_config(nodes=("n1", "n2"), extra=(
            "\n[task#0]\ncommand = /bin/sh -c 'echo ran "
            "$ORCHESTRATOR_RUN_ID'\nschedule = @1s\n")))
        wait_until(lambda: c.active_node("web") == "n1", 20, what="web active on n1")

        def runs() -> list[dict]:
            res = c.svc("n1", "web", "print", "runs", "--format", "json", check=True)
            return [r for r in json.loads(res.stdout) if r["rid"] == "task#0"]

        wait_until(lambda: sum(r["node"] == "n1" and r["status"] == "ok" for r in runs()) >= 2,
                   20, what="task runs on n1")
        m1 = scrape(ports["n1"])
        assert m1[("orchestrator_service_active", (("service", "web"),))] == 1
        assert scrape(ports["n2"])[("orchestrator_service_active", (("service", "web"),))] == 0
        assert m1[("orchestrator_zookeeper_connected", ())] == 1

        c.svc("n1", "web", "switch", "--to", "n2", check=True)
        wait_until(lambda: sum(r["node"] == "n2" and r["status"] == "ok" for r in runs()) >= 2,
                   20, what="task runs on n2 after the switch")
        assert scrape(ports["n1"])[("orchestrator_service_active", (("service", "web"),))] == 0
        assert scrape(ports["n2"])[("orchestrator_service_active", (("service", "web"),))] == 1

        # no more runs: frozen and stopped; then each node's counts are its records'
        c.svc("n2", "web", "freeze", check=True)
        c.svc("n2", "web", "stop", check=True)

        def settled() -> dict:
            first = {n: scrape(p) for n, p in ports.items()}
            time.sleep(1.5)
            records = runs()
            again = {n: scrape(p) for n, p in ports.items()}
            if first != again or any(r["status"] == "running" for r in records):
                return {}
            return {"metrics": again, "records": records}

        got = wait_until(settled, 30, interval=0.2, what="no more runs")
        for name in c.names:
            mine = Counter(r["status"] for r in got["records"]
                           if r["node"] == name and r["origin"] == "scheduler"
                           and r["started_at"])
            counted = {k[1]: v for k, v in got["metrics"][name].items()
                       if k[0] == "orchestrator_job_runs_total"
                       and ("job", "task#0") in k[1]}
            assert {dict(labels)["status"]: v for labels, v in counted.items()} == dict(mine), name
            assert sum(mine.values()) >= 2
            assert got["metrics"][name][("orchestrator_fencing_total", ())] == 0

        # the collector's page for the service, as a browser renders it
        def pushed() -> set[str]:
            return {r["node"] for r in collector.get("/api/v1/runs?service=web&limit=1000")}

        wait_until(lambda: pushed() == {"n1", "n2"}, 20, what="both nodes' runs collected")
        html = dump_dom(f"{collector.url}/services/{c.cluster}/web", tmp_path / "profile")
        svg = re.search(r'<svg[^>]*id="timeline".*?</svg>', html, re.S).group(0)
        lanes = set(re.findall(r'class="mark st-\w+" data-run-id="[^"]+" data-node="(\w+)"', svg))
        assert lanes == {"n1", "n2"}
        assert re.search(r'class="relocation" data-from="n1" data-to="n2"', svg)

        # logs: a run of n1 read on n2, through the collector; on n1, from its own store
        first = next(r for r in got["records"] if r["node"] == "n1" and r["status"] == "ok")
        wait_until(lambda: collector.get(
            f"/api/v1/output?cluster={c.cluster}&run_id={first['run_id']}"), 10,
            what="the run's output at the collector")
        remote = c.svc("n2", "web", "logs", "--run", first["run_id"], check=True)
        assert first["run_id"] in remote.stdout and "output from the collector" in remote.stderr
        local = c.svc("n1", "web", "logs", "--run", first["run_id"], check=True)
        assert local.stdout == remote.stdout and "this node's run store" in local.stderr
        assert c.svc("n2", "web", "logs", "--run", "20260101T000000000000Z-000000").returncode == 2
    finally:
        collector.kill()
