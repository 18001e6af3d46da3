"""A real collector process on a real socket, and a tiny HTTP helper: no mocks."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKENS = {"alpha": "alpha-token", "beta": "beta-token"}


def collector_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["ORCHESTRATOR_LOG_FORMAT"] = "json"
    return env


class CollectorProcess:
    """``python -m orchestrator.collector serve`` on 127.0.0.1; restartable on the same db/port."""

    def __init__(self, workdir: Path, *extra: str):
        self.workdir = workdir
        self.db = workdir / "collector.db"
        self.tokens_file = workdir / "tokens"
        self.tokens_file.write_text("# cluster = token\n"
                                    + "".join(f"{c} = {t}\n" for c, t in TOKENS.items()))
        self.extra = extra
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> CollectorProcess:
        self.starts += 1
        stderr = open(self.workdir / f"collector-{self.starts}.err", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orchestrator.collector", "serve",
             "--listen", f"127.0.0.1:{self.port}", "--db", str(self.db),
             "--tokens-file", str(self.tokens_file), *self.extra],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env=collector_env())
        stderr.close()
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith("listening on "):
            self.kill()
            raise AssertionError(f"collector did not start: stdout={line!r} "
                                 f"stderr={self.stderr()!r}")
        self.port = int(line[0].strip().rsplit(":", 1)[1])
        return self

    def stderr(self) -> str:
        return "".join(p.read_text() for p in sorted(self.workdir.glob("collector-*.err")))

    def kill(self) -> None:
        """SIGKILL: an outage, with no chance to finish anything."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)


def http(method: str, url: str, body: Any = None, *, cluster: str | None = None,
         token: str | None = None, basic: tuple[str, str] | None = None,
         raw: bytes | None = None) -> tuple[int, Any]:
    """One request; returns (status, decoded JSON or text)."""
    headers = {"Content-Type": "application/json"}
    if cluster:
        headers["X-Cluster"] = cluster
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(basic).encode()).decode()
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, payload, ctype = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, payload, ctype = exc.code, exc.read(), exc.headers
    if "json" in ctype.get("Content-Type", ""):
        return status, json.loads(payload)
    return status, payload.decode()


def get(collector: CollectorProcess, path: str, **kw: Any) -> Any:
    status, data = http("GET", collector.url + path, **kw)
    assert status == 200, (path, status, data)
    return data


def push(collector: CollectorProcess, kind: str, body: Any, cluster: str = "alpha",
         token: str | None = None) -> tuple[int, Any]:
    return http("POST", f"{collector.url}/api/v1/push/{kind}", body, cluster=cluster,
                token=token if token is not None else TOKENS[cluster])
