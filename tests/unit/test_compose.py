"""The container and systemd deployment files: valid, and running ``nodemgr daemon run``.

``docker-compose config`` (Debian's docker-compose v1, installed by deploy/bootstrap.sh)
validates the compose file without a Docker engine. Missing tool = failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"


def compose(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose not installed: run deploy/bootstrap.sh (Debian package docker-compose)"
    return subprocess.run([exe, "-f", str(COMPOSE), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"})


def test_compose_file_is_valid() -> None:
    res = compose("config", "-q")
    assert res.returncode == 0, res.stderr


def test_compose_has_an_ensemble_three_nodes_and_a_collector() -> None:
    res = compose("config", "--services")
    assert res.returncode == 0, res.stderr
    assert set(res.stdout.split()) == {"zk1", "zk2", "zk3", "n1", "n2", "n3", "collector"}
    full = compose("config")
    assert full.returncode == 0, full.stderr
    text = full.stdout
    assert text.count("image: zookeeper:3.8") == 3  # ORCHESTRATOR_ZK_IMAGE unset
    assert text.count("subnet: 198.51.100.0/25") == 1  # TEST-NET-2, ORCHESTRATOR_SUBNET unset
    assert text.count("cluster: null") == 7  # every service on the cluster's network
    assert text.count("dockerfile: deploy/Dockerfile") == 4
    assert "orchestrator-collector" in text
    assert text.count("ORCHESTRATOR_COLLECTOR_URL: http://collector:8080") == 3
    for n in ("1", "2", "3"):
        assert f"ZOO_MY_ID: '{n}'" in text or f'ZOO_MY_ID: "{n}"' in text
    assert "ORCHESTRATOR_ZK: zk1:2181,zk2:2181,zk3:2181" in text


def test_compose_rejects_a_broken_file() -> None:
    # the check can fail: the same tool on a broken copy
    broken = COMPOSE.read_text().replace("services:\n", "services:\n  bad: [1, 2]\n", 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "docker-compose.yml"
        path.write_text(broken)
        res = subprocess.run([shutil.which("docker-compose") or "docker-compose", "-f",
                              str(path), "config", "-q"], capture_output=True, text=True,
                             timeout=60)
    assert res.returncode != 0


def test_dockerfile_and_unit_run_the_agent() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert dockerfile.startswith("#")
    # the base is a build argument: python:3.11-slim by default, deploy/images.sh's own base
    assert "ARG BASE=python:3.11-slim\nFROM ${BASE}\n" in dockerfile
    assert "pip install --no-deps --no-build-isolation ." in dockerfile
    assert 'CMD ["nodemgr", "daemon", "run"]' in dockerfile
    unit = (REPO / "deploy" / "orchestrator-node.service").read_text()
    assert "ExecStart=/opt/orchestrator/.venv/bin/nodemgr daemon run" in unit
    assert "[Install]" in unit and "KillSignal=SIGTERM" in unit


def test_entrypoint_writes_node_conf_from_environment(tmp_path: Path, monkeypatch) -> None:
    env = {**os.environ, "ORCHESTRATOR_ROOT": str(tmp_path), "ORCHESTRATOR_NODE": "n7",
           "ORCHESTRATOR_ZK": "zk1:2181", "ORCHESTRATOR_CLUSTER": "c1",
           "ORCHESTRATOR_SECRET": "s", "ORCHESTRATOR_SESSION_TIMEOUT": "4"}
    res = subprocess.run(["sh", str(REPO / "deploy" / "docker-entrypoint.sh"), "true"],
                         env=env, capture_output=True, text=True, timeout=10)
    assert res.returncode == 0, res.stderr
    conf = (tmp_path / "etc" / "orchestrator" / "node.conf").read_text()
    assert "name = n7" in conf and "zk = zk1:2181" in conf and "name = c1" in conf
    assert "session_timeout = 4" in conf
    from orchestrator.config.node import load_node_config
    from orchestrator.paths import NodePaths

    monkeypatch.delenv("ORCHESTRATOR_NODE", raising=False)
    monkeypatch.delenv("ORCHESTRATOR_ZK", raising=False)
    monkeypatch.setenv("ORCHESTRATOR_ROOT", str(tmp_path))
    node = load_node_config(NodePaths.from_env())
    assert node.nodename == "n7" and node.get("cluster", "name") == "c1"
    assert node.zk_hosts == "zk1:2181" and float(node.get("cluster", "session_timeout")) == 4
