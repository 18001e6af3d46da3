"""The node's fence keeper: a small process that stops what the agent started when the agent
dies, hangs, or stops hearing from ZooKeeper, so a service is never up on two nodes.

The agent's ZooKeeper session (and so its lease) outlives the agent by a session timeout;
without a keeper, a dead agent's apps and tasks run on while another node takes over. The
keeper holds no ZooKeeper session. Before the agent starts anything it hands the keeper what
it needs to stop it (``guard``: the service's config; ``task``: a run's record, then its
process group), and several times a second it renews two deadlines:

* ``fence_at``: the last ZooKeeper answer + the fence delay (the self-fencing clock);
* ``loop_fence_at``: the decision loop's last beat + the fence delay (a stuck loop).

A hung or stopped process stops renewing altogether, so both deadlines stand still. The
keeper fences when the agent's connection closes without a ``bye`` (it died), or when
either deadline passes: records first (``interrupted``, "agent unresponsive: fenced"), then
SIGTERM/SIGKILL to the tasks, then the services' resources in reverse order. If the loop was
stuck while the process still runs, it also SIGKILLs the agent, so its session closes and
the cluster fails over now rather than never. A restarted or continued agent is told what
was fenced (``hello``/``renew`` replies) and starts nothing the keeper stopped unless
placement says so. One keeper serves every agent start; it leaves after a graceful ``bye``,
or when nobody has talked to it for a while and it guards nothing.

Run as ``python -m orchestrator.fence.keeper`` (the agent starts it when none answers).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import selectors
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestrator.fence import wire
from orchestrator.fence.stop import (
    Guarded,
    GuardedTask,
    kill_tasks,
    record_interrupted,
    stop_services,
)

IDLE_EXIT = 60.0  # no agent and nothing guarded for this long: leave
SILENT_AFTER = 0.6  # no renewal for this long (they come every 0.2 s): the agent is quiet
STUCK_MARGIN = 0.5  # ZooKeeper answered this much after the loop went quiet: a stuck loop
REPORTS_KEPT = 50


@dataclass
class Agent:
    """One connected agent and what it asked the keeper to guard."""

    sock: socket.socket
    reader: wire.LineReader = field(default_factory=wire.LineReader)
    pid: int | None = None
    node: str = "?"
    clustered: bool = True
    task_grace: float = 0.5
    fence_at: float | None = None  # last ZooKeeper answer + fence delay
    loop_fence_at: float | None = None  # the loop's last beat + fence delay
    renewed_at: float = field(default_factory=time.monotonic)
    guarded: Guarded = field(default_factory=Guarded)
    unread: list[dict[str, Any]] = field(default_factory=list)  # fences it was not told of
    said_bye: bool = False

    def due(self, now: float) -> str | None:
        """Why this agent must be fenced now, or None."""
        if self.loop_fence_at is not None and now >= self.loop_fence_at:
            return "its decision loop went quiet (hung, stopped or stuck)"
        if self.fence_at is not None and now >= self.fence_at:
            if now - self.renewed_at > SILENT_AFTER:
                return "it went quiet (hung or stopped)"
            return "no answer from ZooKeeper within the fence delay"
        return None

    def unresponsive(self, now: float) -> bool:
        """The agent itself, not ZooKeeper, went quiet."""
        return ((self.loop_fence_at is not None and now >= self.loop_fence_at)
                or now - self.renewed_at > SILENT_AFTER)

    def stuck(self, now: float) -> bool:
        """The loop went quiet while ZooKeeper kept answering: kazoo keeps the session (and
        the lease) alive for ever, so the agent must die for the cluster to fail over. A
        loop blocked in a call during a partition has its ZooKeeper clock frozen too."""
        return (self.loop_fence_at is not None and now >= self.loop_fence_at
                and self.fence_at is not None
                and self.fence_at > self.loop_fence_at + STUCK_MARGIN)

    def next_deadline(self) -> float | None:
        found = [t for t in (self.fence_at, self.loop_fence_at) if t is not None]
        return min(found) if found else None


class Keeper:
    """The keeper's state and loop; ``serve`` runs it until it has reason to leave."""

    def __init__(self, node: Any, watchdog: Any = None):
        self.node = node
        self.watchdog = watchdog
        self.selector = selectors.DefaultSelector()
        self.agents: dict[int, Agent] = {}  # fd -> agent
        self.reports: list[dict[str, Any]] = []
        self.fences = 0
        self.idle_since = time.monotonic()
        self.reports_path = node.paths.var / "fence" / "reports.jsonl"
        self.stopping = False

    # ------------------------------------------------------------------ loop

    def serve(self, listener: socket.socket) -> int:
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, None)
        self.say(f"fence keeper {os.getpid()} ready")
        while not self.stopping:
            timeout = self.wait_for()
            for key, _ in self.selector.select(timeout):
                if key.data is None:
                    self.accept(listener)
                else:
                    self.receive(key.data)
            self.check_deadlines()
            self.pet_watchdog()
            if self.should_leave():
                break
        self.say(f"fence keeper {os.getpid()} leaving (nothing to guard)")
        if self.watchdog is not None:
            self.watchdog.disarm()
        return 0

    def wait_for(self) -> float:
        deadlines = [d for a in self.agents.values() if a.guarded or a.pid
                     for d in [a.next_deadline()] if d is not None]
        wait = 1.0 if self.watchdog is None or not self.watchdog.active else 0.5
        if deadlines:
            wait = min(wait, max(0.0, min(deadlines) - time.monotonic()))
        return wait

    def should_leave(self) -> bool:
        if self.agents or any(r.get("pending") for r in self.reports):
            self.idle_since = time.monotonic()
            return False
        return time.monotonic() - self.idle_since >= IDLE_EXIT

    def pet_watchdog(self) -> None:
        """Keep the kernel watchdog quiet while the keeper guards something and is healthy."""
        if self.watchdog is None:
            return
        guarding = any(a.guarded for a in self.agents.values())
        if guarding and not self.watchdog.active:
            with contextlib.suppress(Exception):  # required: guard refused it already
                self.watchdog.arm()
        elif not guarding and self.watchdog.active:
            self.watchdog.disarm()
        if self.watchdog.active:
            self.watchdog.keepalive()

    # ------------------------------------------------------------------ connections

    def accept(self, listener: socket.socket) -> None:
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            return
        if wire.peer_uid(sock) != os.geteuid():
            sock.close()  # whoever talks to the keeper can disarm it
            return
        sock.setblocking(False)
        agent = Agent(sock)
        self.agents[sock.fileno()] = agent
        self.selector.register(sock, selectors.EVENT_READ, agent)

    def receive(self, agent: Agent) -> None:
        try:
            data = agent.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.disconnected(agent)
            return
        try:
            messages = agent.reader.feed(data)
        except ValueError as exc:
            self.say(f"agent {agent.pid}: unreadable message ({exc}); closing")
            self.disconnected(agent)
            return
        for message in messages:
            reply = self.handle(agent, message)
            with contextlib.suppress(OSError):
                agent.sock.setblocking(True)
                agent.sock.sendall(wire.encode(reply))
                agent.sock.setblocking(False)

    def disconnected(self, agent: Agent) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(agent.sock)
        self.agents.pop(agent.sock.fileno(), None)
        agent.sock.close()
        if not agent.said_bye and agent.guarded:
            self.fence(agent, "agent unresponsive: fenced",
                       f"the agent (pid {agent.pid}) went away without a goodbye (died)")
        self.idle_since = time.monotonic()
        if agent.said_bye and not self.agents:
            self.stopping = True  # a graceful stop: the next agent start brings a new keeper

    # ------------------------------------------------------------------ messages

    def handle(self, agent: Agent, msg: dict[str, Any]) -> dict[str, Any]:
        op = msg.get("op")
        now = time.monotonic()
        if op == "hello":
            agent.pid, agent.node = msg.get("pid"), str(msg.get("node", "?"))
            agent.clustered = bool(msg.get("clustered", True))
            agent.task_grace = float(msg.get("task_grace", 0.5))
            told = [r for r in self.reports if r.get("pending")]
            for report in told:
                report["pending"] = False
            self.say(f"agent {agent.pid} attached")
            return {"ok": True, "keeper_pid": os.getpid(), "fenced": told,
                    "watchdog": self.watchdog_state()}
        if op == "renew":
            agent.fence_at = msg.get("fence_at")
            agent.loop_fence_at = msg.get("loop_fence_at")
            agent.renewed_at = now
            return self.with_unread(agent, {"ok": True})
        if op == "guard":
            refused = self.watchdog_refuses()
            if refused:
                return {"ok": False, "error": refused}
            agent.guarded.services[msg["svc"]] = msg["config"]
        elif op == "unguard":
            agent.guarded.services.pop(msg["svc"], None)
        elif op == "task":
            agent.guarded.tasks[msg["run_id"]] = GuardedTask(msg["run_id"], msg["svc"],
                                                              msg["record"])
        elif op == "task_pid":
            task = agent.guarded.tasks.get(msg["run_id"])
            if task is not None:
                task.pid, task.token = msg.get("pid"), msg.get("token")
                task.started = msg.get("started")
        elif op == "task_done":
            agent.guarded.tasks.pop(msg["run_id"], None)
        elif op == "fence":
            report = self.fence(agent, msg.get("reason") or "fenced", "the agent asked")
            agent.unread = [r for r in agent.unread if r is not report]
            # and what the keeper fenced on its own deadline just before: not stopped twice
            return self.with_unread(agent, {"ok": True, "report": report})
        elif op == "bye":
            agent.said_bye = True
            agent.fence_at = agent.loop_fence_at = None
        elif op == "status":
            return self.with_unread(agent, {
                "ok": True, "guarded": sorted(agent.guarded.services),
                "tasks": sorted(agent.guarded.tasks), "fences": self.fences,
                "watchdog": self.watchdog_state(), "now": now})
        else:
            return {"ok": False, "error": f"unknown op {op!r}"}
        return self.with_unread(agent, {"ok": True})

    def with_unread(self, agent: Agent, reply: dict[str, Any]) -> dict[str, Any]:
        if agent.unread:
            reply["fenced"], agent.unread = agent.unread, []
            for report in reply["fenced"]:
                report["pending"] = False
        return reply

    def watchdog_refuses(self) -> str | None:
        """With ``watchdog = required``, nothing starts unless the watchdog is armed."""
        if self.watchdog is None or self.watchdog.active:
            return None
        try:
            if self.watchdog.arm():
                return None
        except Exception as exc:  # noqa: BLE001 - WatchdogUnavailable: required and missing
            return f"the kernel watchdog is required but unavailable: {exc}"
        return None  # automatic: runs without it (the reason is in the status)

    def watchdog_state(self) -> dict[str, Any]:
        if self.watchdog is None:
            return {"mode": "off", "active": False, "reason": None}
        return {"mode": self.watchdog.mode, "active": self.watchdog.active,
                "reason": self.watchdog.reason}

    # ------------------------------------------------------------------ fencing

    def check_deadlines(self) -> None:
        now = time.monotonic()
        for agent in list(self.agents.values()):
            why = agent.due(now)
            if why is None:
                continue
            stuck, quiet = agent.stuck(now), agent.unresponsive(now)
            agent.fence_at = agent.loop_fence_at = None  # armed again by its next renewal
            if agent.guarded:
                self.fence(agent, "agent unresponsive: fenced" if quiet else
                           "fenced: no answer from ZooKeeper within the fence delay", why)
            if stuck:
                self.kill_stuck_agent(agent)

    def fence(self, agent: Agent, reason: str, why: str) -> dict[str, Any]:
        """Stop everything ``agent`` started here; the report is kept for the next agent."""
        began = time.monotonic()
        guarded, agent.guarded = agent.guarded, Guarded()
        tasks = list(guarded.tasks.values())
        self.fences += 1
        self.say(f"fencing agent {agent.pid}: {why}; interrupting "
                 f"{len(tasks)} task(s), stopping {', '.join(guarded.services) or 'nothing'}")
        recorded = record_interrupted(self.node, tasks, reason, agent.clustered, self.say)
        # a run whose runner recorded its end just before (its task_done still on the way)
        # has no process to kill: signalling its group could reach a reused one
        kill_tasks([t for t in tasks if t.run_id in recorded], agent.task_grace, self.say)
        if any((t.record.get("extra") or {}).get("container") for t in tasks):
            from orchestrator.execution.container_executor import remove_run_containers

            # a container task's container outlives its killed engine client
            remove_run_containers([t.record for t in tasks if t.run_id in recorded], self.say)
        codes = stop_services(self.node, guarded.services, self.say)
        took = time.monotonic() - began
        report = {"at": datetime.now(UTC).isoformat(), "agent_pid": agent.pid, "why": why,
                  "reason": reason, "services": codes, "tasks": recorded,
                  "seconds": round(took, 3), "pending": True}
        self.say(f"fenced agent {agent.pid} in {took:.2f}s: {why}")
        self.reports = [*self.reports, report][-REPORTS_KEPT:]
        if agent.sock.fileno() in self.agents:
            agent.unread.append(report)
        self.save_report(report)
        return report

    def kill_stuck_agent(self, agent: Agent) -> None:
        """A live agent whose loop is stuck keeps its session (and lease) alive for ever:
        kill it so the session closes. A stopped one (SIGSTOP) is left to be continued."""
        import psutil

        if agent.pid is None:
            return
        try:
            proc = psutil.Process(agent.pid)
            status = proc.status()
        except psutil.Error:
            return
        if status in (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP, psutil.STATUS_ZOMBIE):
            self.say(f"agent {agent.pid} is {status}: left as it is (its session will expire "
                     "unless it is continued)")
            return
        self.say(f"agent {agent.pid} runs but its loop is stuck: SIGKILL, so its ZooKeeper "
                 "session closes and the cluster fails over")
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signal.SIGKILL)

    def save_report(self, report: dict[str, Any]) -> None:
        try:
            self.reports_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.reports_path, "a") as fh:
                fh.write(json.dumps({k: v for k, v in report.items() if k != "pending"}) + "\n")
        except OSError as exc:
            self.say(f"cannot write {self.reports_path}: {exc}")

    def say(self, text: str) -> None:
        from orchestrator.log import get_logger

        get_logger().warning(text, node=self.node.nodename, component="fence-keeper")


def _single_instance(node: Any) -> Any:
    """Hold the keeper's lock file for life; None when another keeper has it."""
    path = node.paths.var / "fence" / "keeper.pid"
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


def main() -> int:
    from orchestrator import log
    from orchestrator.config.node import load_node_config

    log.configure(through_structlog=True)
    node = load_node_config()
    lock = _single_instance(node)
    if lock is None:
        return 0  # another keeper serves this node
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL ends a keeper early
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(wire.address(node.paths.root))
    except OSError as exc:
        print(f"fence keeper: cannot listen: {exc}", file=sys.stderr)
        return 1
    listener.listen(8)
    return Keeper(node, _watchdog(node)).serve(listener)


def _watchdog(node: Any) -> Any:
    mode = _node_setting(node, "watchdog", "off")
    if mode == "off":
        return None
    from orchestrator.fence.watchdog import Watchdog

    return Watchdog(mode, _node_setting(node, "watchdog_device", "/dev/watchdog"))


def _node_setting(node: Any, keyword: str, default: str) -> str:
    try:
        return str(node.get("node", keyword) or default)
    except KeyError:
        return default


if __name__ == "__main__":
    sys.exit(main())
