"""Push tokens kept in the store: a collector started with none serves reads and refuses
pushes, saying how to add one; ``token add`` takes effect at once, ``revoke`` too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from collector_support import CollectorProcess, collector_env, get, http
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.push import PushClient

SCRIPT = Path(sys.executable).parent / "orchestrator-collector"


def token_cli(*args: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), f"console script missing: {SCRIPT} (pip install -e .)"
    return subprocess.run([str(SCRIPT), "token", *args], capture_output=True, text=True,
                          timeout=30, env=collector_env())


def nodes_push(collector: CollectorProcess, token: str | None, seq: int,
               cluster: str = "alpha") -> tuple[int, object]:
    return http("POST", collector.url + "/api/v1/push/nodes",
                {"node": "n1", "seq": seq, "items": [{"asset": {"seq": seq}}]},
                cluster=cluster, token=token)


def samples(collector: CollectorProcess) -> dict[tuple[str, tuple], float]:
    text = get(collector, "/metrics")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_token_lifecycle_against_a_running_collector(tmp_path: Path) -> None:
    collector = CollectorProcess(tmp_path, tokens={}).start()  # an empty tokens file: none
    db = str(collector.db)
    try:
        # no token: reads are served, every push is refused with how to add one
        assert get(collector, "/api/v1/nodes") == []
        assert "orchestrator collector" in get(collector, "/")
        status, body = nodes_push(collector, "anything", 1)
        assert status == 401, body
        assert f"orchestrator-collector token add alpha --db {db}" in body["error"]
        client = PushClient(collector.url, "anything", "alpha", tmp_path / "queue", node="n1")
        assert client.push("nodes", [{"asset": {}}]).pending == 1  # kept, retried later
        assert "no push token yet" in collector.stderr()

        # add: printed once, effective at once (same process, no restart)
        added = token_cli("add", "alpha", "--db", db)
        assert added.returncode == 0, added.stderr
        token = added.stdout.strip()
        assert token.startswith("oct_") and len(token) > 40 and "\n" not in token
        assert nodes_push(collector, token, 2)[0] == 200
        client.token = token
        assert client.flush().delivered == 1  # what was refused goes in now
        assert nodes_push(collector, "wrong", 3)[0] == 403
        assert nodes_push(collector, token, 4, cluster="beta")[0] == 403

        # stored as a digest only: the token is nowhere in the database files
        for path in tmp_path.glob("collector.db*"):
            assert token.encode() not in path.read_bytes(), path
        listed = token_cli("list", "--db", db, "--format", "json")
        assert listed.returncode == 0 and token not in listed.stdout
        import json

        [row] = json.loads(listed.stdout)
        assert row["cluster"] == "alpha" and len(row["token_id"]) == 12
        text = token_cli("list", "alpha", "--db", db).stdout
        assert row["token_id"] in text and token not in text

        # a second token; revoking the first by id leaves the second working
        second = token_cli("add", "alpha", "--db", db).stdout.strip()
        assert nodes_push(collector, second, 5)[0] == 200
        revoked = token_cli("revoke", "alpha", "--id", row["token_id"], "--db", db)
        assert revoked.returncode == 0 and "revoked 1" in revoked.stdout
        assert nodes_push(collector, token, 6)[0] == 403
        assert nodes_push(collector, second, 7)[0] == 200

        # revoking every token of the cluster: back to refusing every push, with the hint
        assert token_cli("revoke", "alpha", "--db", db).returncode == 0
        status, body = nodes_push(collector, second, 8)
        assert status == 401 and "token add" in body["error"]
        missing = token_cli("revoke", "alpha", "--db", db)
        assert missing.returncode == 2 and "no stored token" in missing.stderr

        # the collector counted each push by outcome
        counts = samples(collector)
        key = "orchestrator_collector_pushes_total"
        assert counts[(key, (("kind", "nodes"), ("result", "unauthorized")))] == 6
        assert counts[(key, (("kind", "nodes"), ("result", "stored")))] == 4
        assert counts[("orchestrator_collector_store_rows", (("table", "pushes"),))] == 4
        assert counts[("orchestrator_collector_store_rows", (("table", "tokens"),))] == 0
        assert counts[("orchestrator_collector_store_bytes", ())] > 0
    finally:
        collector.kill()


def test_command_line_tokens_still_work_beside_stored_ones(tmp_path: Path) -> None:
    collector = CollectorProcess(tmp_path).start()  # alpha-token, beta-token from a file
    try:
        stored = token_cli("add", "alpha", "--db", str(collector.db)).stdout.strip()
        assert nodes_push(collector, "alpha-token", 1)[0] == 200
        assert nodes_push(collector, stored, 2)[0] == 200
        assert nodes_push(collector, "beta-token", 3, cluster="beta")[0] == 200
        status, body = nodes_push(collector, "x", 4, cluster="gamma")
        assert status == 403 and "token add gamma" in body["error"]
    finally:
        collector.kill()


def test_token_cli_usage_errors(tmp_path: Path) -> None:
    bad = token_cli("add", "../x", "--db", str(tmp_path / "db"))
    assert bad.returncode == 2 and "invalid cluster name" in bad.stderr
    nodb = token_cli("list", "--db", str(tmp_path / "missing" / "db"))
    assert nodb.returncode == 2 and nodb.stderr.count("\n") == 1 and "database" in nodb.stderr
    assert token_cli("add", "alpha").returncode == 2  # --db is required
