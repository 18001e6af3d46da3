"""Nemesis soak, in Jepsen's style: random faults against 3 real node daemons for N minutes.

A 3-member local ZooKeeper ensemble (orchestrator/devtools/zookeeper.py) and 3 clustered
``nodemgr daemon run`` (tests/cluster/daemons.py), each node reaching every ZooKeeper member
through a TcpProxy of its own, so that one node can be black-holed. One ``orchestrate = ha``
service: its app appends ``start``/``stop`` lines with a timestamp to ``events`` (like
``ha_config``), and a task scheduled ``@2s`` that runs ~1 s writes ``begin``/``end`` lines
with its ``ORCHESTRATOR_SCHEDULED_AT``, run id and node to ``tasks`` (on SIGTERM its trap
writes the end).

Faults, one at a time, every few seconds, each followed by its recovery; the kinds are dealt
round-robin from a shuffled deck so each gets the same share (>= 5 each in 10 minutes):

* ``kill_agent``: SIGKILL of one agent alone (its fence keeper lives on and fences), restarted
  3-6 s later;
* ``pause_agent``: SIGSTOP of an agent for 1-5 s (often longer than the 2 s session), SIGCONT;
* ``crash_node``: the whole node dies: every process of the node is frozen, then its agent
  and keeper are SIGKILLed (``Cluster.crash``) and so is the rest (tasks, commands in
  flight); its app goes with it (marker removed, a ``crash`` line); restarted 3-6 s later;
* ``partition``: the node's proxies black-hole its ZooKeeper traffic for 2-6 s, then heal;
* ``zk_leader``: SIGKILL of the ZooKeeper leader, restarted 3-6 s later.

Node faults hit the node running the app 80 % of the time. The cluster's run records
(``print runs``, bounded history) are collected after every fault. At the end
bench/nemesis_check.py checks the files (overlaps, duplicates, unexplained misses,
availability, SIGKILL timings); the directory is kept (logs included) for a rerun of the
checker: ``.venv/bin/python bench/nemesis_check.py DIR``.

Rerun: .venv/bin/python bench/nemesis.py --minutes 10   (exit 1 on an overlap, a duplicate or
an unexplained miss)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "cluster"))
sys.path.insert(0, str(REPO / "bench"))

import nemesis_check  # noqa: E402
from daemons import Cluster, wait_until  # noqa: E402

from orchestrator.devtools import zookeeper as zkmod  # noqa: E402
from orchestrator.devtools.tcpproxy import TcpProxy  # noqa: E402

KINDS = ("kill_agent", "pause_agent", "crash_node", "partition", "zk_leader")
PERIOD = 2.0
SVC = "svc1"
RID = "task#0"


def _port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """The harness's check, but with SO_REUSEADDR as ZooKeeper binds: a restarted member's
    port still has TIME_WAIT connections from the proxies, which do not stop ZooKeeper."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


zkmod.port_is_free = _port_is_free


def task_script(path: Path, tasks: Path) -> None:
    def line(what: str, note: str) -> str:
        return (f'"$(date +%s.%N) {what} $1 ${{ORCHESTRATOR_SCHEDULED_AT:--}} '
                f'${{ORCHESTRATOR_RUN_ID:--}} {note}" >> {tasks}')

    path.write_text(
        "#!/bin/sh\n"
        "# the trap first: a SIGTERM right after the begin line still writes the end\n"
        f"trap 'echo {line('end', 'term')}; exit 143' TERM\n"
        f"echo {line('begin', '$$')}\n"
        "sleep 1 &\nwait\n"
        f"echo {line('end', 'ok')}\n")


def node_pids(root: Path, run_ids: Iterable[str] = ()) -> list[int]:
    """Every process of a node: those whose ORCHESTRATOR_ROOT is the node's (agent, keeper,
    what they run directly), those of its task runs (``ORCHESTRATOR_RUN_ID``: a task's
    environment is sanitized, it has no ORCHESTRATOR_ROOT) and all their descendants."""
    needles = [b"\0ORCHESTRATOR_ROOT=" + str(root).encode() + b"\0"]
    needles += [b"\0ORCHESTRATOR_RUN_ID=" + r.encode() + b"\0" for r in run_ids]
    children: dict[int, list[int]] = {}
    seeds = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{pid}/environ", "rb") as fh:
                env = b"\0" + fh.read() + b"\0"
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(pid)
        if any(n in env for n in needles):
            seeds.append(pid)
    found, todo = set(), list(seeds)
    while todo:
        pid = todo.pop()
        if pid in found or pid == os.getpid():
            continue
        found.add(pid)
        todo += children.get(pid, [])
    return sorted(found)


def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


class Nemesis:
    def __init__(self, base: Path, seed: int, out=print):
        self.base = base
        self.rng = random.Random(seed)
        self.out = out
        self.t_start = time.time()
        self.zk = zkmod.ZooKeeperEnsemble(base / "zk", size=3)
        self.proxies: dict[str, list[TcpProxy]] = {}
        self.c: Cluster | None = None
        self.faults: list[dict[str, Any]] = []
        self.records: dict[str, dict[str, Any]] = {}
        self.tasks = base / "tasks"
        self.faults_file = base / "faults.jsonl"
        self.seen_twice: list[tuple[float, list[str]]] = []
        self.samples = 0
        self._sampling = threading.Event()

    def log(self, text: str) -> None:
        self.out(f"[{time.time() - self.t_start:7.1f}s] {text}")

    # ------------------------------------------------------------------ set-up

    def setup(self) -> Cluster:
        self.zk.start()
        names = ("n1", "n2", "n3")
        chroot = "/nemesis"
        for name in names:
            self.proxies[name] = [TcpProxy((m.host, m.client_port)) for m in self.zk.members]
        zk_for = {n: ",".join(p.hosts for p in ps) + chroot for n, ps in self.proxies.items()}
        c = Cluster(self.base, zk=self.zk.hosts + chroot, names=names, zk_for=zk_for)
        self.c = c
        script = self.base / "task.sh"
        task_script(script, self.tasks)
        c.start()
        c.wait_joined(timeout=60)
        c.create(SVC, c.ha_config(extra=f"[{RID}]\ncommand = sh {script} {{nodename}}\n"
                                         f"schedule = @{PERIOD:g}s\n"))
        c.wait_up_only_on("n1", timeout=30)
        wait_until(lambda: self.tasks.exists() and "begin" in self.tasks.read_text(), 30,
                   what="a first task run")
        threading.Thread(target=self.sample, daemon=True).start()
        return c

    def sample(self) -> None:
        """The app's markers every 20 ms: a second view of "never up on two nodes"."""
        assert self.c is not None
        while not self._sampling.is_set():
            up = self.c.up_nodes()
            self.samples += 1
            if len(up) > 1:
                self.seen_twice.append((time.time(), sorted(up)))
            time.sleep(0.02)

    # ------------------------------------------------------------------ helpers

    def active(self, timeout: float = 20.0) -> str | None:
        """The node whose app is up, once exactly one is (None if that never happens)."""
        assert self.c is not None
        try:
            up = wait_until(lambda: (lambda u: u if len(u) == 1 else None)(self.c.up_nodes()),
                            timeout, interval=0.05, what="the app up on exactly one node")
        except AssertionError:
            self.log(f"WARNING: app up on {sorted(self.c.up_nodes())} after {timeout:g}s")
            return None
        return next(iter(up))

    def pick_node(self, active: str | None) -> str:
        assert self.c is not None
        if active is not None and self.rng.random() < 0.8:
            return active
        return self.rng.choice([n for n in self.c.names if n != active])

    def poll_records(self) -> int:
        """Merge the cluster's run records of the task (its history keeps the last 100)."""
        assert self.c is not None
        for name in self.rng.sample(list(self.c.names), len(self.c.names)):
            if not self.c.nodes[name].alive:
                continue
            try:
                res = self.c.svc(name, SVC, "print", "runs", "--format", "json", "--rid", RID,
                                 timeout=30)
            except Exception as exc:  # noqa: BLE001 - try another node
                self.log(f"print runs on {name}: {exc!r}")
                continue
            if res.returncode != 0:
                continue
            for r in json.loads(res.stdout):
                self.records[r["run_id"]] = r
            (self.base / "records.json").write_text(json.dumps(list(self.records.values())))
            return len(self.records)
        self.log("WARNING: no node answered print runs")
        return len(self.records)

    def note(self, fault: dict[str, Any]) -> None:
        self.faults.append(fault)
        with self.faults_file.open("a") as fh:
            fh.write(json.dumps(fault) + "\n")

    def wait_joined(self, name: str) -> None:
        assert self.c is not None
        try:
            self.c.wait_joined(name, timeout=30)
        except AssertionError as exc:
            self.log(f"WARNING: {exc}")

    # ------------------------------------------------------------------ faults

    def run_ids(self, node: str | None = None) -> set[str]:
        """The run ids the task has written on ``node`` (all nodes: None), to find their
        processes."""
        if not self.tasks.exists():
            return set()
        return {t.run_id for t in nemesis_check.parse_tasks(self.tasks.read_text().splitlines())
                if node is None or t.node == node}

    def kill_agent(self, node: str, active: str | None) -> dict[str, Any]:
        assert self.c is not None
        t0 = time.time()
        self.c.kill(node)
        hold = self.rng.uniform(3, 6)
        time.sleep(hold)
        self.c.start(node)
        self.wait_joined(node)
        return {"at": t0, "restarted_after": round(hold, 2)}

    def pause_agent(self, node: str, active: str | None) -> dict[str, Any]:
        assert self.c is not None
        hold = self.rng.uniform(1, 5)
        t0 = time.time()
        self.c.pause(node)
        time.sleep(hold)
        self.c.resume(node)
        # The keeper kills a stuck agent, never a stopped one; a continued one must live on.
        # If it dies anyway, say so and restart it (as systemd's Restart=always would).
        proc = self.c.nodes[node].proc
        assert proc is not None
        died_after = None
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(3)
            died_after = round(time.time() - t0 - hold, 3)
        if died_after is not None:
            self.log(f"WARNING: {node}'s agent died {died_after}s after SIGCONT "
                     f"(exit {proc.returncode}); restarting it")
            self.c._close_log(self.c.nodes[node])  # it is gone: no killpg of a stale pid
            self.c.start(node)
        self.wait_joined(node)
        return {"at": t0, "paused_for": round(hold, 2), "survived": died_after is None,
                "died_after_continue": died_after}

    def crash_node(self, node: str, active: str | None) -> dict[str, Any]:
        assert self.c is not None
        root = self.c.nodes[node].root
        run_ids = self.run_ids(node)
        t0 = time.time()
        frozen = node_pids(root, run_ids)
        signal_all(frozen, signal.SIGSTOP)  # the node freezes at once, as in a crash
        self.c.crash(node)  # the agent and its keeper
        rest = sorted(set(frozen) | set(node_pids(root, run_ids)))
        signal_all(rest, signal.SIGKILL)  # its tasks and the commands in flight
        # its app dies with it
        marker = self.c.markers / f"{node}.up"
        had_app = marker.exists()
        if had_app:
            marker.unlink()
            with self.c.events.open("a") as fh:
                fh.write(f"{time.time():.6f} crash {node}\n")
        # its task runs end now (no trap ran: SIGKILL)
        lines = nemesis_check.parse_tasks(self.tasks.read_text().splitlines()
                                          if self.tasks.exists() else [])
        ended = {t.run_id for t in lines if t.what == "end"}
        open_runs = [t for t in lines if t.what == "begin" and t.node == node
                     and t.run_id not in ended]
        if open_runs:
            with self.tasks.open("a") as fh:
                for t in open_runs:
                    slot = (self.records.get(t.run_id, {}).get("scheduled_at")
                            or _iso(t.slot))
                    fh.write(f"{time.time():.6f} end {node} {slot} {t.run_id} crash\n")
        hold = self.rng.uniform(3, 6)
        time.sleep(hold)
        self.c.start(node)
        self.wait_joined(node)
        return {"at": t0, "processes_killed": len(rest), "had_app": had_app,
                "tasks_killed": len(open_runs), "restarted_after": round(hold, 2)}

    def partition(self, node: str, active: str | None) -> dict[str, Any]:
        hold = self.rng.uniform(2, 6)
        t0 = time.time()
        for p in self.proxies[node]:
            p.blackhole()
        time.sleep(hold)
        for p in self.proxies[node]:
            p.heal()
        self.wait_joined(node)
        return {"at": t0, "healed_after": round(hold, 2)}

    def zk_leader(self) -> dict[str, Any]:
        leader = self.zk.leader()
        member = leader.dir.name
        t0 = time.time()
        leader.kill()
        hold = self.rng.uniform(3, 6)
        time.sleep(hold)
        deadline = time.monotonic() + 90
        while True:
            try:
                leader.start(wait=True, timeout=60)
                break
            except zkmod.ZooKeeperHarnessError as exc:
                if time.monotonic() > deadline:
                    raise
                self.log(f"restarting {member}: {str(exc).splitlines()[0]}; retrying")
                time.sleep(2)
        return {"at": t0, "node": member, "restarted_after": round(hold, 2)}

    # ------------------------------------------------------------------ the soak

    def run(self, minutes: float) -> dict[str, Any]:
        c = self.setup()
        import orchestrator

        self.log(f"cluster up in {self.base} (orchestrator from "
                 f"{Path(orchestrator.__file__).parent}); faults for {minutes:g} min")
        started = time.time()
        deadline = time.monotonic() + minutes * 60
        deck: list[str] = []
        while time.monotonic() < deadline:
            time.sleep(self.rng.uniform(2, 4))
            self.poll_records()
            if not deck:
                deck = list(KINDS)
                self.rng.shuffle(deck)
            kind = deck.pop()
            active = self.active()
            if kind == "zk_leader":
                fault = self.zk_leader()
            else:
                node = self.pick_node(active)
                fault = getattr(self, kind)(node, active)
                fault["node"] = node
            fault = {"kind": kind, "active": fault.get("node") == active, "active_before": active,
                     **fault, "recovered_at": time.time()}
            after = self.active()
            fault["active_after"] = after
            self.note(fault)
            self.log(f"{kind} {fault['node']}{' (active)' if fault['active'] else ''}: "
                     + ", ".join(f"{k} {v}" for k, v in fault.items()
                                 if k not in ("kind", "node", "active", "at", "recovered_at"))
                     + f" ({len(self.faults)} faults, {len(self.records)} records)")
        self.log("faults over; settling")
        for name in c.names:
            if not c.nodes[name].alive:
                self.log(f"WARNING: {name}'s agent is not running at the end; restarting it")
                c._close_log(c.nodes[name])
                c.start(name)
        self.active(30)
        time.sleep(3 * PERIOD)
        self.poll_records()
        checked_until = time.time() - 2 * PERIOD
        ended = time.time()
        self._sampling.set()
        meta = {"started_at": started, "ended_at": ended, "checked_until": checked_until,
                "period": PERIOD, "rid": RID, "minutes": minutes,
                "samples": self.samples, "samples_up_twice": len(self.seen_twice),
                "cluster": c.cluster}
        (self.base / "meta.json").write_text(json.dumps(meta, indent=1))
        (self.base / "records.json").write_text(json.dumps(list(self.records.values()),
                                                            indent=1))
        return meta

    def close(self) -> None:
        self._sampling.set()
        for ps in self.proxies.values():
            for p in ps:
                p.heal()
        if self.c is not None:
            for name in self.c.names:
                node = self.c.nodes[name]
                if node.alive:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(node.proc.pid, signal.SIGCONT)
            self.c.close()
            run_ids = self.run_ids()
            for name in self.c.names:  # what the daemons left: tasks ending, commands
                signal_all(node_pids(self.c.nodes[name].root, run_ids), signal.SIGKILL)
        for ps in self.proxies.values():
            for p in ps:
                p.close()
        self.zk.stop()


def _iso(ts: float | None) -> str:
    from datetime import UTC, datetime

    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", type=Path, default=None,
                    help="where to keep everything (default: a new /tmp/nemesis-*)")
    args = ap.parse_args()
    base = args.dir or Path(f"/tmp/nemesis-{time.strftime('%Y%m%d-%H%M%S')}")
    base.mkdir(parents=True, exist_ok=True)
    nem = Nemesis(base, args.seed, out=lambda s: print(s, flush=True))
    try:
        meta = nem.run(args.minutes)
    finally:
        nem.close()
    events, tasks, records, faults, meta = nemesis_check.load(base)
    rep = nemesis_check.check(events, tasks, records, faults, meta)
    print(nemesis_check.render(rep, faults))
    print(f"marker samples every 20 ms: {meta['samples']}, with the app up on two nodes: "
          f"{meta['samples_up_twice']}")
    result = {**nemesis_check.summary(rep), "dir": str(base), "seed": args.seed,
              "minutes": args.minutes, "samples_up_twice": meta["samples_up_twice"]}
    (base / "report.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0 if rep.ok and not meta["samples_up_twice"] else 1


if __name__ == "__main__":
    sys.exit(main())
