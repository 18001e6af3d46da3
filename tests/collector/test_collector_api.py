"""The collector over real HTTP: each push kind read back, auth, validation, idempotency."""

from __future__ import annotations

from pathlib import Path

from collector_support import TOKENS, CollectorProcess, get, http, push

from orchestrator.push import PushClient
from orchestrator.runs.record import RunRecord, RunStatus, new_run_id


def client(collector: CollectorProcess, tmp_path: Path, node: str = "n1",
           cluster: str = "alpha") -> PushClient:
    return PushClient(collector.url, TOKENS[cluster], cluster, tmp_path / f"queue-{node}",
                      node=node)


def test_each_kind_pushed_and_read_back(collector: CollectorProcess, tmp_path: Path) -> None:
    c = client(collector, tmp_path)
    record = RunRecord(new_run_id(), "web", "task#0", "n1", "scheduler", RunStatus.OK,
                       exit_code=0)
    results = [
        c.push("nodes", [{"asset": {"os_name": "Linux", "cpu_count": 2}}]),
        c.push("status", [{"service": "web", "avail": "up", "overall": "up",
                           "resources": {"app#0": {"status": "up"}}}]),
        c.push("config", [{"service": "web", "text": "[DEFAULT]\nnodes = n1 n2\n"}]),
        c.push("resinfo", [{"service": "web", "rid": "app#0", "key": "pid", "value": 4242}]),
        c.push("runs", [record]),
        c.push("compliance", [{"module": "ntp", "status": "nok", "detail": "drift 3 s"},
                              {"module": "users", "status": "ok", "service": "web",
                               "action": "fix"}]),
    ]
    assert all(r.ok and r.delivered == 1 and r.error is None for r in results), results
    assert c.pending() == 0

    nodes = get(collector, "/api/v1/nodes")
    assert [(n["cluster"], n["node"], n["asset"]) for n in nodes] == [
        ("alpha", "n1", {"os_name": "Linux", "cpu_count": 2})]
    [svc] = get(collector, "/api/v1/services")
    assert (svc["service"], svc["avail"], svc["active_node"], svc["frozen"]) == (
        "web", "up", "n1", False)
    assert svc["instances"]["n1"]["overall"] == "up"
    [inst] = get(collector, "/api/v1/instances?service=web")
    assert inst["resources"] == {"app#0": {"status": "up"}}
    [conf] = get(collector, "/api/v1/configs?service=web")
    assert conf["text"] == "[DEFAULT]\nnodes = n1 n2\n" and len(conf["digest"]) == 64
    [info] = get(collector, "/api/v1/resinfo?service=web")
    assert (info["rid"], info["key"], info["value"]) == ("app#0", "pid", "4242")
    [run] = get(collector, "/api/v1/runs?service=web&limit=5")
    assert {k: run[k] for k in record.to_dict()} == record.to_dict()
    comp = get(collector, "/api/v1/compliance")
    assert [(r["module"], r["service"], r["status"], r["action"]) for r in comp] == [
        ("ntp", None, "nok", "check"), ("users", "web", "ok", "fix")]
    assert get(collector, "/api/v1/compliance?service=web")[0]["module"] == "users"
    assert [p["kind"] for p in get(collector, "/api/v1/pushes?node=n1")] == [
        "nodes", "status", "config", "resinfo", "runs", "compliance"]
    assert get(collector, "/healthz") == {"ok": True}


def test_active_node_follows_instance_status(collector: CollectorProcess,
                                             tmp_path: Path) -> None:
    n1, n2 = client(collector, tmp_path, "n1"), client(collector, tmp_path, "n2")
    n1.push("status", [{"service": "db", "avail": "up"}])
    n2.push("status", [{"service": "db", "avail": "down"}])
    [svc] = get(collector, "/api/v1/services")
    assert (svc["avail"], svc["active_node"]) == ("up", "n1")
    n2.push("status", [{"service": "db", "avail": "up"}])  # both up: warn, newest wins
    [svc] = get(collector, "/api/v1/services")
    assert (svc["avail"], svc["active_node"]) == ("warn", "n2")
    n1.push("status", [{"service": "db", "avail": "down", "frozen": True}])
    [svc] = get(collector, "/api/v1/services")
    assert (svc["avail"], svc["active_node"], svc["frozen"]) == ("up", "n2", True)


def test_runs_newest_first_limit_and_service_filter(collector: CollectorProcess,
                                                    tmp_path: Path) -> None:
    c = client(collector, tmp_path)
    ids = [f"2026010{i}T000000000000Z-00000{i}" for i in range(1, 6)]
    c.push("runs", [{"run_id": r, "service": "a" if i % 2 else "b", "rid": "task#0",
                     "status": "ok"} for i, r in enumerate(ids)])
    assert [r["run_id"] for r in get(collector, "/api/v1/runs")] == ids[::-1]
    assert [r["run_id"] for r in get(collector, "/api/v1/runs?limit=2")] == ids[:2:-1]
    assert [r["run_id"] for r in get(collector, "/api/v1/runs?service=b")] == [ids[4], ids[2],
                                                                             ids[0]]
    assert get(collector, "/api/v1/runs")[0]["node"] == "n1"  # defaults to the pushing node
    assert http("GET", collector.url + "/api/v1/runs?limit=0")[0] == 400
    assert http("GET", collector.url + "/api/v1/runs?limit=x")[0] == 400


def test_run_record_updated_by_later_push_never_by_an_older_one(
        collector: CollectorProcess) -> None:
    run = {"run_id": "20260101T000000000000Z-abcdef", "service": "web", "rid": "task#0"}
    assert push(collector, "runs", {"node": "n1", "seq": 10,
                                    "items": [{**run, "status": "running"}]})[0] == 200
    assert push(collector, "runs", {"node": "n1", "seq": 11,
                                    "items": [{**run, "status": "ok", "exit_code": 0}]})[0] == 200
    # a late copy of an older push (its own key, lower seq) must not undo the final status
    assert push(collector, "runs", {"node": "n1", "seq": 9,
                                    "items": [{**run, "status": "running"}]})[0] == 200
    [got] = get(collector, "/api/v1/runs")
    assert (got["status"], got["exit_code"]) == ("ok", 0)


def test_push_without_valid_token_is_refused_and_stores_nothing(
        collector: CollectorProcess) -> None:
    body = {"node": "n1", "seq": 1, "items": [{"asset": {"os": "x"}}]}
    url = collector.url + "/api/v1/push/nodes"
    assert http("POST", url, body)[0] == 401  # no credentials at all
    assert http("POST", url, body, token="alpha-token")[0] == 401  # no cluster named
    assert http("POST", url, body, cluster="alpha")[0] == 401  # no token
    assert http("POST", url, body, cluster="alpha", token="wrong")[0] == 403
    assert http("POST", url, body, cluster="alpha", token="beta-token")[0] == 403
    assert http("POST", url, body, cluster="gamma", token="alpha-token")[0] == 403
    assert get(collector, "/api/v1/nodes") == []
    assert get(collector, "/api/v1/pushes") == []
    # the same body with the right token goes in, for the token's cluster only
    assert push(collector, "nodes", body, cluster="beta")[0] == 200
    assert [(n["cluster"], n["node"]) for n in get(collector, "/api/v1/nodes")] == [("beta", "n1")]
    assert get(collector, "/api/v1/nodes?cluster=alpha") == []


def test_bad_item_refuses_the_whole_push(collector: CollectorProcess) -> None:
    good = {"service": "web", "avail": "up"}
    status, data = push(collector, "status", {"node": "n1", "seq": 1,
                                              "items": [good, {"service": "web", "avail": "on"}]})
    assert status == 400 and "item 1" in data["error"] and "avail" in data["error"]
    for kind, body in [("status", {"node": "n1", "items": []}),  # no seq
                       ("status", {"node": "../x", "seq": 1, "items": []}),
                       ("runs", {"node": "n1", "seq": 1, "items": [{"run_id": "r"}]}),
                       ("compliance", {"node": "n1", "seq": 1,
                                       "items": [{"module": "m", "status": "bad"}]})]:
        assert push(collector, kind, body)[0] == 400, (kind, body)
    assert http("POST", collector.url + "/api/v1/push/status", raw=b"{not json",
                cluster="alpha", token="alpha-token")[0] == 400
    assert http("POST", collector.url + "/api/v1/push/bogus", {}, cluster="alpha",
                token="alpha-token")[0] == 404
    assert get(collector, "/api/v1/services") == []
    assert get(collector, "/api/v1/pushes") == []


def test_redelivered_push_is_ignored(collector: CollectorProcess, tmp_path: Path) -> None:
    body = {"node": "n1", "seq": 7, "items": [
        {"run_id": "20260101T000000000000Z-000001", "service": "web", "rid": "task#0",
         "status": "ok"}]}
    assert push(collector, "runs", body) == (200, {"kind": "runs", "node": "n1", "seq": 7,
                                                   "accepted": 1, "duplicate": False})
    status, data = push(collector, "runs", body)
    assert status == 200 and data["duplicate"] is True and data["accepted"] == 0
    assert len(get(collector, "/api/v1/runs")) == 1
    assert len(get(collector, "/api/v1/pushes")) == 1

    # the client's case: a push stored but whose answer was lost is still in the queue
    c = client(collector, tmp_path)
    c.enqueue("compliance", [{"module": "ntp", "status": "ok"}])
    [queued] = list(c.queue_dir.glob("*.json"))
    saved = queued.read_bytes()
    assert c.flush().delivered == 1
    queued.write_bytes(saved)  # as if the 200 never arrived
    result = c.flush()
    assert (result.delivered, result.duplicates, result.pending) == (0, 1, 0)
    assert len(get(collector, "/api/v1/compliance")) == 1
    assert [p["kind"] for p in get(collector, "/api/v1/pushes")] == ["runs", "compliance"]


def test_client_keeps_its_queue_when_the_token_is_refused(collector: CollectorProcess,
                                                          tmp_path: Path) -> None:
    bad = PushClient(collector.url, "not-the-token", "alpha", tmp_path / "q", node="n1")
    result = bad.push("nodes", [{"asset": {}}])
    assert result.pending == 1 and "403" in (result.error or "")
    good = PushClient(collector.url, TOKENS["alpha"], "alpha", tmp_path / "q", node="n1")
    assert good.flush().delivered == 1
    assert len(get(collector, "/api/v1/nodes")) == 1


def test_client_sets_aside_a_push_the_collector_calls_malformed(
        collector: CollectorProcess, tmp_path: Path) -> None:
    c = client(collector, tmp_path)
    c.enqueue("status", [{"service": "web", "avail": "sideways"}])
    c.enqueue("status", [{"service": "web", "avail": "up"}])
    result = c.flush()
    assert (result.delivered, result.rejected, result.pending) == (1, 1, 0)
    assert len(list((c.queue_dir / "rejected").glob("*.status.json"))) == 1
    assert get(collector, "/api/v1/services")[0]["avail"] == "up"


def test_private_reads_need_the_cluster_token(tmp_path: Path) -> None:
    proc = CollectorProcess(tmp_path, "--private-reads").start()
    try:
        for cluster in ("alpha", "beta"):
            push(proc, "nodes", {"node": f"{cluster}-n1", "seq": 1, "items": [{}]},
                 cluster=cluster)
        status, _ = http("GET", proc.url + "/api/v1/nodes")
        assert status == 401
        assert http("GET", proc.url + "/")[0] == 401
        assert http("GET", proc.url + "/api/v1/nodes", cluster="alpha", token="beta-token")[0] \
            == 403
        nodes = get(proc, "/api/v1/nodes", cluster="alpha", token="alpha-token")
        assert [n["node"] for n in nodes] == ["alpha-n1"]
        nodes = get(proc, "/api/v1/nodes", basic=("beta", "beta-token"))  # what browsers send
        assert [n["node"] for n in nodes] == ["beta-n1"]
        assert http("GET", proc.url + "/api/v1/nodes?cluster=beta", basic=(
            "alpha", "alpha-token"))[0] == 403
        page = get(proc, "/", basic=("alpha", "alpha-token"))
        assert "alpha-n1" in page and "beta-n1" not in page
        assert get(proc, "/healthz") == {"ok": True}
    finally:
        proc.kill()
