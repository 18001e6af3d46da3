"""The agent's side of the fence keeper: find it (start it when none answers), hand it what
it must be able to stop, renew its deadlines, and hear what it fenced.

The link keeps its own copy of what the keeper guards, so a keeper that was killed and
started again is re-armed with everything before the agent goes on. A call the keeper
cannot answer returns None (or a reason): the agent decides what that means for safety.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.fence import wire

START_TIMEOUT = 15.0
REPLY_TIMEOUT = 10.0

OnFenced = Callable[[list[dict[str, Any]]], None]


class KeeperUnavailable(Exception):
    """The fence keeper could not be reached or started."""


class KeeperLink:
    def __init__(self, root: Path, node: str, *, clustered: bool = True,
                 task_grace: float = 0.5, on_fenced: OnFenced | None = None):
        self.root = Path(root)
        self.node = node
        self.clustered = clustered
        self.task_grace = task_grace
        self.on_fenced = on_fenced or (lambda reports: None)
        self.lock = threading.RLock()
        self.sock: socket.socket | None = None
        self.reader = wire.LineReader()
        self.keeper_pid: int | None = None
        self.watchdog: dict[str, Any] = {}
        self.services: dict[str, str] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.said_bye = False  # after a graceful goodbye nothing starts a keeper again

    @classmethod
    def attach(cls, root: Path, node: str, stop_event: threading.Event,
               **kw: Any) -> KeeperLink:
        """A link attached to the node's keeper, retried until it answers (nothing may start
        here without one) or ``stop_event`` is set."""
        from orchestrator.log import get_logger

        link = cls(root, node, **kw)
        while not stop_event.is_set():
            try:
                link.connect()
                break
            except KeeperUnavailable as exc:
                get_logger().error(f"node {node}: {exc}; retrying (nothing starts "
                                   "without it)")
                stop_event.wait(1.0)
        get_logger().info(f"node {node}: fence keeper pid {link.keeper_pid} guards "
                          "this node")
        return link

    # ------------------------------------------------------------------ connection

    def connect(self) -> None:
        """Attach to the node's keeper, starting one if none answers."""
        with self.lock:
            if self.sock is not None:
                return
            if self.said_bye:
                raise KeeperUnavailable("this agent said goodbye to its fence keeper")
            sock = self._dial()
            if sock is None:
                self._spawn()
                deadline = time.monotonic() + START_TIMEOUT
                while sock is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                    sock = self._dial()
            if sock is None:
                raise KeeperUnavailable(f"no fence keeper answers for {self.root} and none "
                                        f"could be started within {START_TIMEOUT:g}s")
            self.sock, self.reader = sock, wire.LineReader()
            reply = self._exchange({"op": "hello", "pid": os.getpid(), "node": self.node,
                                    "clustered": self.clustered,
                                    "task_grace": self.task_grace})
            self.keeper_pid = reply.get("keeper_pid")
            self.watchdog = reply.get("watchdog") or {}
            for svc, text in self.services.items():  # a new keeper: arm it again
                self._exchange({"op": "guard", "svc": svc, "config": text})
            for run_id, task in self.tasks.items():
                self._exchange({"op": "task", "run_id": run_id, **task["task"]})
                if task.get("pid"):
                    self._exchange({"op": "task_pid", "run_id": run_id, "pid": task["pid"],
                                    "token": task.get("token"),
                                    "started": task.get("started")})

    def _dial(self) -> socket.socket | None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(wire.address(self.root))
        except OSError:
            sock.close()
            return None
        sock.settimeout(REPLY_TIMEOUT)
        return sock

    def _spawn(self) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
        env["ORCHESTRATOR_ROOT"] = str(self.root)
        # its own session: a signal to the agent's process group, or systemd's
        # KillMode=process, leaves the keeper alive; it logs where the agent logs
        subprocess.Popen([sys.executable, "-m", "orchestrator.fence.keeper"], env=env,
                         stdin=subprocess.DEVNULL, start_new_session=True, close_fds=True,
                         cwd="/")

    def close(self) -> None:
        with self.lock:
            if self.sock is not None:
                with contextlib.suppress(OSError):
                    self.sock.close()
            self.sock = None

    # ------------------------------------------------------------------ requests

    def _exchange(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.sock is not None
        self.sock.sendall(wire.encode(message))
        while True:
            data = self.sock.recv(65536)
            if not data:
                raise OSError("the fence keeper closed the connection")
            replies = self.reader.feed(data)
            if replies:
                reply = replies[0]
                if reply.get("fenced"):
                    self.on_fenced(reply["fenced"])
                return reply

    def request(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """Send one message; reconnect (and re-arm a new keeper) once if the link broke."""
        with self.lock:
            for attempt in (1, 2):
                try:
                    self.connect()
                    return self._exchange(message)
                except (OSError, ValueError, KeeperUnavailable):
                    self.close()
                    if attempt == 2:
                        return None
        return None

    # ------------------------------------------------------------------ what it guards

    def guard(self, svc: str, config: str) -> str | None:
        """Before a service starts: the keeper must be able to stop it. None when it is;
        else why not (the start must not go ahead)."""
        with self.lock:
            reply = self.request({"op": "guard", "svc": svc, "config": config})
            if reply is None:
                return "the node's fence keeper does not answer"
            if not reply.get("ok"):
                return str(reply.get("error") or "refused by the fence keeper")
            self.services[svc] = config
            return None

    def unguard(self, svc: str) -> None:
        with self.lock:
            self.services.pop(svc, None)
            self.request({"op": "unguard", "svc": svc})

    def task(self, run_id: str, svc: str, record: dict[str, Any]) -> bool:
        """Before a scheduled task starts; False if the keeper could not be told."""
        with self.lock:
            task = {"svc": svc, "record": record}
            reply = self.request({"op": "task", "run_id": run_id, **task})
            if reply is None or not reply.get("ok"):
                return False
            self.tasks[run_id] = {"task": task}
            return True

    def task_pid(self, run_id: str, pid: int, token: str | None,
                 started: float | None = None) -> None:
        """The run's command started: its pid, create time and run token."""
        with self.lock:
            if run_id in self.tasks:
                self.tasks[run_id].update(pid=pid, token=token, started=started)
            self.request({"op": "task_pid", "run_id": run_id, "pid": pid, "token": token,
                          "started": started})

    def task_done(self, run_id: str) -> None:
        with self.lock:
            if self.tasks.pop(run_id, None) is not None:
                self.request({"op": "task_done", "run_id": run_id})

    def forget_fenced(self, report: dict[str, Any]) -> None:
        """What the keeper stopped is no longer ours to re-arm."""
        with self.lock:
            for svc in report.get("services") or {}:
                self.services.pop(svc, None)
            for run_id in report.get("tasks") or []:
                self.tasks.pop(run_id, None)

    # ------------------------------------------------------------------ deadlines

    def renew(self, fence_at: float | None, loop_fence_at: float) -> bool:
        reply = self.request({"op": "renew", "fence_at": fence_at,
                              "loop_fence_at": loop_fence_at})
        return reply is not None

    def fence(self, reason: str) -> dict[str, Any] | None:
        """Ask the keeper to fence now (the agent's own ZooKeeper fence); its report."""
        with self.lock:
            reply = self.request({"op": "fence", "reason": reason})
            if reply is None:
                return None
            report = reply.get("report") or {}
            self.forget_fenced(report)
            return report

    def status(self) -> dict[str, Any] | None:
        return self.request({"op": "status"})

    def bye(self) -> None:
        """A graceful stop: everything was stopped by the agent; nothing to fence."""
        with self.lock:
            if self.sock is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._exchange({"op": "bye"})
            self.said_bye = True
            self.close()
