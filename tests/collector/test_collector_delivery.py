"""Node-side queue against a real collector that dies and comes back on the same database."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from collector_support import TOKENS, CollectorProcess, get

from orchestrator.push import PushClient


def _run(i: int) -> dict[str, object]:
    return {"run_id": f"20260101T0000{i:02d}000000Z-{i:06x}", "service": "web",
            "rid": "task#0", "status": "ok", "exit_code": 0}


def test_outage_then_restart_delivers_everything_in_order_once(
        collector: CollectorProcess, tmp_path: Path) -> None:
    c = PushClient(collector.url, TOKENS["alpha"], "alpha", tmp_path / "queue", node="n1",
                   timeout=2.0)
    seqs = []
    for batch in range(3):  # collector up
        seqs.append(c.enqueue("runs", [_run(batch * 2), _run(batch * 2 + 1)]))
        assert c.flush().delivered == 1
    collector.kill()  # SIGKILL: the outage
    for batch in range(3, 8):
        seqs.append(c.enqueue("runs", [_run(batch * 2), _run(batch * 2 + 1)]))
        started = time.monotonic()
        result = c.flush()
        assert result.pending == batch - 2 and result.error, result
        assert time.monotonic() - started < 2, "a refused connection must not wait"
    seqs.append(c.enqueue("status", [{"service": "web", "avail": "up"}]))
    assert c.pending() == 6

    collector.start()  # same db file, same port
    result = c.flush()
    assert (result.delivered, result.duplicates, result.pending, result.error) == (6, 0, 0, None)
    assert c.flush().delivered == 0  # nothing left, nothing sent twice

    ledger = get(collector, "/api/v1/pushes")
    assert [p["seq"] for p in ledger] == seqs  # received in the order pushed, each once
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    runs = get(collector, "/api/v1/runs?limit=1000")
    assert sorted(r["run_id"] for r in runs) == sorted(_run(i)["run_id"] for i in range(16))
    assert get(collector, "/api/v1/services")[0]["active_node"] == "n1"


def test_threads_and_two_clients_share_one_queue(collector: CollectorProcess,
                                                 tmp_path: Path) -> None:
    """The daemon's job threads and a CLI process may push through the same queue dir."""
    queue = tmp_path / "queue"
    clients = [PushClient(collector.url, TOKENS["alpha"], "alpha", queue, node="n1")
               for _ in range(2)]

    def worker(w: int) -> None:
        for i in range(10):
            clients[w % 2].push("runs", [_run(w * 10 + i)])

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert clients[0].pending() == 0
    ledger = get(collector, "/api/v1/pushes?limit=1000")
    assert len(ledger) == 40
    assert [p["seq"] for p in ledger] == sorted(p["seq"] for p in ledger)
    assert len(get(collector, "/api/v1/runs?limit=1000")) == 40


def test_queue_survives_a_new_client_and_seq_never_goes_back(collector: CollectorProcess,
                                                              tmp_path: Path) -> None:
    queue = tmp_path / "queue"
    collector.kill()
    first = PushClient(collector.url, TOKENS["alpha"], "alpha", queue, node="n1", timeout=1)
    s1 = first.enqueue("nodes", [{"asset": {"boot": 1}}])
    (queue / ".tmp-leftover").write_text("half written")  # a crash mid-write
    collector.start()
    second = PushClient(collector.url, TOKENS["alpha"], "alpha", queue, node="n1")
    assert not (queue / ".tmp-leftover").exists()
    s2 = second.enqueue("nodes", [{"asset": {"boot": 2}}])
    assert s2 > s1
    assert second.flush().delivered == 2
    assert get(collector, "/api/v1/nodes")[0]["asset"] == {"boot": 2}


def test_client_from_node_conf(collector: CollectorProcess, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORCHESTRATOR_NODE", raising=False)
    from orchestrator.config.node import load_node_config
    from orchestrator.paths import NodePaths

    paths = NodePaths(tmp_path / "root")
    paths.etc.mkdir(parents=True)
    paths.node_conf.write_text("[node]\nname = n7\n[cluster]\nname = beta\n")
    assert PushClient.from_node_config(load_node_config(paths)) is None  # no collector set
    paths.node_conf.write_text(f"[node]\nname = n7\n[cluster]\nname = beta\n[collector]\n"
                               f"url = {collector.url}\ntoken = {TOKENS['beta']}\n")
    c = PushClient.from_node_config(load_node_config(paths))
    assert c is not None and c.queue_dir == paths.var / "collector-queue"
    assert c.push("nodes", [{"asset": {}}]).ok
    assert [(n["cluster"], n["node"]) for n in get(collector, "/api/v1/nodes")] == [("beta", "n7")]


def test_courier_queues_without_waiting_and_delivers_after_an_outage(
        collector: CollectorProcess, tmp_path: Path) -> None:
    from orchestrator.push.courier import Courier

    stop = threading.Event()
    c = PushClient(collector.url, TOKENS["alpha"], "alpha", tmp_path / "queue", node="n1",
                   timeout=2.0)
    courier = Courier(c, stop, retry_every=0.2)
    collector.kill()
    for i in range(4):  # no thread delivering yet: send only queues
        courier.send("runs", [_run(i)])
    assert c.pending() == 4
    courier.start()
    time.sleep(0.5)  # a few retries against the dead collector
    assert c.pending() == 4 and courier.failing
    collector.start()
    deadline = time.monotonic() + 10
    while c.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    assert c.pending() == 0 and not courier.failing
    runs = get(collector, "/api/v1/runs?limit=100")
    assert sorted(r["run_id"] for r in runs) == sorted(_run(i)["run_id"] for i in range(4))
    assert len(get(collector, "/api/v1/pushes")) == 4
