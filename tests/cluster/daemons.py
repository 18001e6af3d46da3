"""A small harness for tests with real node agents: N ``nodemgr daemon run`` processes.

Each node has its own ``ORCHESTRATOR_ROOT`` (``<base>/<node>``) and node.conf pointing at a
real ZooKeeper, under a cluster name unique to the test (the cluster name is its chroot, so
leftovers of one test never meet the next). Daemon output goes to ``<base>/<node>.log``;
``dump_logs()`` prints the tails (the fixture does so on teardown: pytest shows it only when
the test failed). CLI commands run as subprocesses with one node's environment.

The sample service (``ha_config``) touches a marker file per node on start, removes it on
stop, checks it, and appends timestamped ``start``/``stop`` lines to a shared events file:
``up_intervals()`` turns those into per-node up intervals so a test can prove that two
nodes never ran the service at the same time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.devtools.waiting import wait_until  # noqa: F401 - the tests import it from here

BIN = Path(sys.executable).parent
SESSION_TIMEOUT = 2


def _tool(name: str) -> list[str]:
    exe = BIN / name
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", f"orchestrator.cli.{name}"]


@dataclass
class Node:
    name: str
    root: Path
    zk: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    _log_fh: Any = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("ORCHESTRATOR_ZK", "ORCHESTRATOR_NODE", "ORCHESTRATOR_ROOT")}
        env["ORCHESTRATOR_ROOT"] = str(self.root)
        env["ORCHESTRATOR_LOG_FORMAT"] = "console"
        env["ORCHESTRATOR_TEST_BLOCK_LOOP"] = str(self.block_file)
        return env

    @property
    def block_file(self) -> Path:
        """While this file exists the node's decision loop is stuck (the agent's test hook)."""
        return self.root / "block-loop"

    def conf_path(self, svc: str) -> Path:
        return self.root / "etc" / "orchestrator" / "services" / f"{svc}.conf"


@dataclass
class Cluster:
    """N nodes of one cluster on this machine; ``zk_for`` overrides a node's connect string."""

    base: Path
    zk: str
    names: tuple[str, ...] = ("n1", "n2", "n3")
    cluster: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")
    session_timeout: float = SESSION_TIMEOUT
    zk_for: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.nodes: dict[str, Node] = {}
        for name in self.names:
            root = self.base / name
            node = Node(name, root, self.zk_for.get(name, self.zk), self.base / f"{name}.log")
            self.write_node_conf(node)
            self.nodes[name] = node
        self.markers = self.base / "markers"
        self.markers.mkdir(exist_ok=True)
        self.events = self.base / "events"

    def write_node_conf(self, node: Node) -> None:
        conf = node.root / "etc" / "orchestrator" / "node.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(f"[node]\nname = {node.name}\n\n[cluster]\nname = {self.cluster}\n"
                        f"zk = {node.zk}\nsecret = s3cret\n"
                        f"session_timeout = {self.session_timeout:g}\n")

    # ------------------------------------------------------------------ daemons

    def start(self, *names: str) -> None:
        """Start the daemons of ``names`` (all when none given)."""
        for name in names or self.names:
            node = self.nodes[name]
            assert not node.alive, f"{name} already running"
            node._log_fh = open(node.log_path, "ab")  # noqa: SIM115 - the child writes it
            node.proc = subprocess.Popen(
                [*_tool("nodemgr"), "daemon", "run"], env=node.env(), cwd=node.root,
                stdin=subprocess.DEVNULL, stdout=node._log_fh, stderr=subprocess.STDOUT,
                start_new_session=True)

    def wait_joined(self, *names: str, timeout: float = 15.0) -> None:
        """Until every named node (all by default) is registered in the cluster."""
        wanted = set(names or self.names)
        wait_until(lambda: wanted <= self.up_members(), timeout,
                   what=f"nodes {sorted(wanted)} to join", interval=0.1)

    def up_members(self, name: str | None = None) -> set[str]:
        """Nodes ``nodemgr status`` shows up (as node ``name``)."""
        return {n for n, i in self.status(name)["nodes"].items() if i["state"] == "up"}

    def kill(self, name: str) -> None:
        """SIGKILL a node's agent alone (the OOM killer's pick): its fence keeper, apps and
        tasks live on, and the keeper stops what the agent started."""
        node = self.nodes[name]
        if node.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.proc.pid, signal.SIGKILL)
            node.proc.wait(10)
        self._close_log(node)

    def crash(self, name: str) -> None:
        """The whole node dies: its agent and its fence keeper together (the app's marker
        file stays: the test removes it if it wants the app gone too). The agent is stopped
        first: alive, it would start a new keeper as soon as it saw the old one gone."""
        self._freeze(name)
        self.kill_keeper(name)
        self.kill(name)

    def _freeze(self, name: str) -> None:
        node = self.nodes[name]
        if node.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(node.proc.pid, signal.SIGSTOP)

    def keeper_pid(self, name: str) -> int | None:
        """The pid of the node's fence keeper while it runs."""
        path = self.nodes[name].root / "var" / "lib" / "orchestrator" / "fence" / "keeper.pid"
        try:
            pid = int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _is_keeper(pid) else None

    def kill_keeper(self, name: str) -> None:
        """SIGKILL the node's keeper and wait until that process is gone (a live agent
        starts another one when it sees it gone: ``crash`` stops the agent first)."""
        pid = self.keeper_pid(name)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not _is_keeper(pid), 10, what=f"{name}'s keeper (pid {pid}) gone")

    def pause(self, name: str) -> None:
        """SIGSTOP the agent (a hung process); ``resume`` continues it."""
        proc = self.nodes[name].proc
        assert proc is not None
        os.kill(proc.pid, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        proc = self.nodes[name].proc
        assert proc is not None
        os.kill(proc.pid, signal.SIGCONT)

    def stop(self, name: str, timeout: float = 20.0) -> int | None:
        """SIGTERM a node's daemon and wait for it (it stops what it runs); its exit code."""
        node = self.nodes[name]
        if node.proc is None:
            return None
        if node.alive:
            node.proc.send_signal(signal.SIGTERM)
            try:
                node.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill(name)
        self._close_log(node)
        return node.proc.returncode

    def _close_log(self, node: Node) -> None:
        if node._log_fh is not None:
            node._log_fh.close()
            node._log_fh = None

    def close(self) -> None:
        for name, node in self.nodes.items():
            self._freeze(name)  # no new keeper from it, and no fence of it by the old one:
            self.kill_keeper(name)  # the keeper goes first
            if node.alive:
                self.kill(name)  # SIGKILL ends a stopped process too
            # what a killed daemon left running: our app only leaves a marker file
        self.kill_strays()

    def kill_strays(self) -> None:
        for node in self.nodes.values():
            self._close_log(node)

    def log(self, name: str) -> str:
        try:
            return self.nodes[name].log_path.read_text(errors="replace")
        except OSError:
            return ""

    def dump_logs(self, lines: int = 80) -> str:
        parts = [f"cluster {self.cluster} at {self.zk}"]
        for name in self.names:
            parts.append(f"----- {name} daemon log (last {lines} lines)")
            parts += self.log(name).splitlines()[-lines:]
        if self.events.exists():
            parts.append("----- events")
            parts += self.events.read_text().splitlines()
        return "\n".join(parts)

    # ------------------------------------------------------------------ CLI

    def cli(self, name: str, *args: str, tool: str = "svcmgr", timeout: float = 60.0,
            check: bool | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``svcmgr``/``nodemgr`` ARGS as node ``name``; ``check=True`` asserts exit 0."""
        proc = subprocess.run([*_tool(tool), *args], env=self.nodes[name].env(),
                              capture_output=True, text=True, timeout=timeout,
                              input=stdin if stdin is not None else "")
        if check:
            assert proc.returncode == 0, (f"{tool} {' '.join(args)} on {name}: exit "
                                          f"{proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def svc(self, name: str, svc: str, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return self.cli(name, "-s", svc, *args, **kw)

    def status(self, name: str | None = None) -> dict[str, Any]:
        """``nodemgr status --format json`` as node ``name`` (the first alive by default)."""
        name = name or next(n for n in self.names if self.nodes[n].alive)
        out = self.cli(name, "status", "--format", "json", tool="nodemgr", check=True)
        return json.loads(out.stdout)

    def svc_status(self, svc: str, name: str | None = None) -> dict[str, Any]:
        name = name or next(n for n in self.names if self.nodes[n].alive)
        out = self.svc(name, svc, "print", "status", "--format", "json", check=True)
        return json.loads(out.stdout)

    def active_node(self, svc: str, name: str | None = None) -> str | None:
        return self.svc_status(svc, name)["active_node"]

    # ------------------------------------------------------------------ the sample service

    def ha_config(self, nodes: Iterable[str] | None = None, orchestrate: str = "ha",
                  start_extra: str = "", extra: str = "") -> str:
        """A failover service whose app leaves a marker and start/stop events per node.

        ``start_extra`` is prepended to the start command (e.g. ``test {nodename} != n1 && ``
        to make the start fail on n1)."""
        nodes = " ".join(nodes or self.names)
        m, ev = self.markers, self.events
        return (f"[DEFAULT]\nnodes = {nodes}\norchestrate = {orchestrate}\n\n"
                f"[app#0]\n"
                f"start = {start_extra}echo \"$(date +%s.%N) start {{nodename}}\" >> {ev} "
                f"&& touch {m}/{{nodename}}.up\n"
                f"stop = rm -f {m}/{{nodename}}.up && echo \"$(date +%s.%N) stop {{nodename}}\" "
                f">> {ev}\n"
                f"check = test -f {m}/{{nodename}}.up\n{extra}")

    def create(self, svc: str, text: str, on: str | None = None,
               check: bool | None = True) -> subprocess.CompletedProcess[str]:
        path = self.base / f"{svc.replace('/', '_')}.conf.in"
        path.write_text(text)
        return self.svc(on or self.names[0], svc, "create", "--config", str(path), check=check)

    def up_nodes(self) -> set[str]:
        """Nodes whose marker file exists (the app's own view: started there)."""
        return {p.name[: -len(".up")] for p in self.markers.glob("*.up")}

    def wait_up_only_on(self, node: str, timeout: float = 15.0) -> None:
        wait_until(lambda: self.up_nodes() == {node}, timeout,
                   what=f"the service up on {node} only (up: {sorted(self.up_nodes())})")

    def event_lines(self) -> list[tuple[float, str, str]]:
        if not self.events.exists():
            return []
        out = []
        for line in self.events.read_text().splitlines():
            ts, what, node = line.split()
            out.append((float(ts), what, node))
        return out

    def up_intervals(self, now: float | None = None) -> list[tuple[float, float, str]]:
        """(start, end, node) for every time a node ran the app; still up = ends ``now``."""
        now = time.time() if now is None else now
        opened: dict[str, float] = {}
        out = []
        for ts, what, node in sorted(self.event_lines()):
            if what == "start":
                opened.setdefault(node, ts)
            elif what == "stop" and node in opened:
                out.append((opened.pop(node), ts, node))
        out += [(ts, now, node) for node, ts in opened.items()]
        return sorted(out)


def overlaps(intervals: list[tuple[float, float, str]]) -> list[tuple[tuple, tuple]]:
    """Pairs of up intervals of different nodes that intersect in time."""
    found = []
    for i, a in enumerate(intervals):
        for b in intervals[i + 1:]:
            if a[2] != b[2] and a[0] < b[1] and b[0] < a[1]:
                found.append((a, b))
    return found


def _is_keeper(pid: int) -> bool:
    """``pid`` is a live fence keeper (not a zombie, not a reused pid)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"orchestrator.fence.keeper" in fh.read()
    except OSError:
        return False
