"""The daemon's /metrics on a standalone node, parsed with prometheus_client's parser after
real scheduled runs: the counts match the run records ``print runs`` shows."""

from __future__ import annotations

import subprocess
import time
from collections import Counter

from e2e_support import BIN, Node
from metrics_support import free_port, scrape

from orchestrator.devtools.waiting import wait_until

TASKS = """
[DEFAULT]
nodes = n1
[app#0]
start = /bin/true
stop = /bin/true
check = /bin/false
[task#ok]
command = /bin/true
schedule = @1s
{disable}
[task#bad]
command = /bin/false
schedule = @1s
{disable}
[task#gated]
command = /bin/true
schedule = @1s
run_requires = app#0(up)
{disable}
"""


def wait(predicate, timeout: float = 30.0, what: str = "condition"):
    return wait_until(predicate, timeout, 0.2, what)


def test_metrics_count_what_the_run_records_say(node: Node) -> None:
    port = free_port()
    conf = node.root / "etc" / "orchestrator" / "node.conf"
    conf.write_text(f"[node]\nname = n1\n\n[metrics]\nlisten = 127.0.0.1:{port}\n")
    node.write("svc", TASKS.format(disable=""))
    daemon = subprocess.Popen([str(BIN / "nodemgr"), "daemon", "run"], env=node.env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        def enough() -> bool:
            seen = Counter((r["rid"], r["status"]) for r in node.runs("svc"))
            return all(seen[k] >= 2 for k in [("task#ok", "ok"), ("task#bad", "failed"),
                                              ("task#gated", "skipped")])

        wait(enough, what="runs of each task")
        live = scrape(port)
        labels = (("job", "task#ok"), ("service", "svc"))
        assert live[("orchestrator_job_period_seconds", labels)] == 1.0  # @1s
        assert live[("orchestrator_job_next_run_timestamp_seconds", labels)] > time.time() - 5
        assert live[("orchestrator_job_last_success_timestamp_seconds", labels)] > 0
        assert ("orchestrator_job_last_success_timestamp_seconds",
                (("job", "task#bad"), ("service", "svc"))) not in live  # never ok
        node.write("svc", TASKS.format(disable="disable = true"))  # the daemon stops them

        def settled() -> dict:
            first = scrape(port)
            time.sleep(1.5)
            records = node.runs("svc")
            again = scrape(port)
            if first != again or any(r["status"] == "running" for r in records):
                return {}
            return {"metrics": again, "records": records}

        got = wait(settled, what="no more runs")
        metrics, records = got["metrics"], got["records"]
        scheduled = [r for r in records if r["origin"] == "scheduler"]
        assert len(scheduled) == len(records) > 0
        ran = Counter((r["rid"], r["status"]) for r in scheduled if r["started_at"])
        for (rid, status), count in ran.items():
            key = ("orchestrator_job_runs_total",
                   (("job", rid), ("service", "svc"), ("status", status)))
            assert metrics[key] == count, (rid, status, count, metrics.get(key))
        counted = {k: v for k, v in metrics.items() if k[0] == "orchestrator_job_runs_total"}
        assert sum(counted.values()) == sum(ran.values())
        skipped = [r for r in scheduled if r["status"] == "skipped"]
        assert {r["rid"] for r in skipped} == {"task#gated"}
        assert metrics[("orchestrator_job_not_run_total", (("job", "task#gated"),
                        ("reason", "requirements_unmet"), ("service", "svc")))] == len(skipped)
        for rid in ("task#ok", "task#bad"):
            n = sum(c for (r, _), c in ran.items() if r == rid)
            labels = (("job", rid), ("service", "svc"))
            assert metrics[("orchestrator_job_duration_seconds_count", labels)] == n
            assert metrics[("orchestrator_job_skew_seconds_count", labels)] == n
            assert metrics[("orchestrator_job_skew_seconds_sum", labels)] >= 0
            inf = ("orchestrator_job_duration_seconds_bucket",
                   tuple(sorted((*labels, ("le", "+Inf")))))
            assert metrics[inf] == n
        assert metrics[("orchestrator_service_active", (("service", "svc"),))] == 1
        assert metrics[("orchestrator_zookeeper_connected", ())] == 0  # standalone
        assert metrics[("orchestrator_fencing_total", ())] == 0
    finally:
        daemon.terminate()
        daemon.wait(15)
    assert "Traceback" not in daemon.stderr.read()


def test_a_bad_metrics_address_is_a_config_error(node: Node) -> None:
    conf = node.root / "etc" / "orchestrator" / "node.conf"
    conf.write_text("[node]\nname = n1\n\n[metrics]\nlisten = 9464\n")
    res = node.run([str(BIN / "nodemgr"), "status"])
    assert res.rc == 2 and "listen" in res.err and "HOST:PORT" in res.err, res.err
    assert res.err.count("\n") == 1
