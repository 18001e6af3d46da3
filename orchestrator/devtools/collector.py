"""A real ``orchestrator-collector serve`` process for tests and demos: started on a free port
of 127.0.0.1, killable (an outage), restartable on the same port and database.

Usage::

    collector = CollectorProcess(tmp_path, tokens={"alpha": "alpha-token"}).start()
    collector.point(node_conf, "alpha")          # [collector] url, token in a node.conf
    collector.get("/api/v1/runs")                # JSON (or the page's text)
    collector.kill(); collector.start()          # an outage, then the same port and db
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_TOKENS = {"alpha": "alpha-token", "beta": "beta-token"}


def collector_env() -> dict[str, str]:
    """The environment the collector runs in: this checkout importable, JSON logs."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["ORCHESTRATOR_LOG_FORMAT"] = "json"
    return env


class CollectorProcess:
    """``python -m orchestrator.collector serve`` with a tokens file; ``extra`` are more
    arguments (``--private-reads``, ``--retention 0``)."""

    def __init__(self, workdir: Path, *extra: str, tokens: Mapping[str, str] = SAMPLE_TOKENS):
        self.workdir = workdir
        self.tokens = dict(tokens)
        self.db = workdir / "collector.db"
        self.tokens_file = workdir / "tokens"
        self.tokens_file.write_text("# cluster = token\n"
                                    + "".join(f"{c} = {t}\n" for c, t in self.tokens.items()))
        self.extra = extra
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> CollectorProcess:
        """Start (again): the first start picks a free port, later ones reuse it."""
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
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)

    def get(self, path: str) -> Any:
        """An open read (no credentials): decoded JSON, or the text of the web page."""
        with urllib.request.urlopen(self.url + path, timeout=5) as resp:
            body = resp.read()
            if "json" in resp.headers.get("Content-Type", ""):
                return json.loads(body)
            return body.decode()

    def point(self, conf: Path, cluster: str, node_extra: str = "") -> None:
        """Add ``[collector] url, token`` (``cluster``'s) to a node.conf, and ``node_extra``
        lines to its ``[node]``."""
        text = conf.read_text()
        if node_extra:
            text = text.replace("[node]\n", f"[node]\n{node_extra}", 1)
        conf.write_text(text + f"\n[collector]\nurl = {self.url}\n"
                               f"token = {self.tokens[cluster]}\n")
