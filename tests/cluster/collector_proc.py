"""A real ``orchestrator-collector serve`` process for daemon tests: killable, restartable on
the same port and database; plus node.conf helpers pointing nodes at it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

TOKEN = "t0ken"


class CollectorProc:
    def __init__(self, workdir: Path, cluster: str):
        self.workdir = workdir
        self.cluster = cluster
        self.db = workdir / "collector.db"
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> CollectorProc:
        """Start (again): the first start picks a free port, later ones reuse it."""
        exe = Path(sys.executable).with_name("orchestrator-collector")
        self.starts += 1
        err = open(self.workdir / f"collector-{self.starts}.err", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(exe), "serve", "--listen", f"127.0.0.1:{self.port}", "--db", str(self.db),
             "--token", f"{self.cluster}={TOKEN}"],
            stdout=subprocess.PIPE, stderr=err, text=True)
        err.close()
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith("listening on "):
            self.kill()
            raise AssertionError(f"collector did not start: {line!r} {self.stderr()}")
        self.port = int(line[0].strip().rsplit(":", 1)[1])
        return self

    def kill(self) -> None:
        """SIGKILL: an outage, with no chance to finish anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(10)

    def stderr(self) -> str:
        return "".join(p.read_text() for p in sorted(self.workdir.glob("collector-*.err")))

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=5) as resp:
            body = resp.read()
            if "json" in resp.headers.get("Content-Type", ""):
                return json.loads(body)
            return body.decode()


def point_at_collector(conf: Path, url: str, node_extra: str = "") -> None:
    """Add ``[collector] url, token`` to a node.conf, and ``node_extra`` lines to its [node]."""
    text = conf.read_text()
    if node_extra:
        text = text.replace("[node]\n", f"[node]\n{node_extra}", 1)
    conf.write_text(text + f"\n[collector]\nurl = {url}\ntoken = {TOKEN}\n")
