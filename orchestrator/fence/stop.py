"""What the fence keeper does when it fences: records first, then tasks, then resources.

The keeper holds no ZooKeeper session and the agent may be dead, so everything here works
from what the agent handed over beforehand (service configs, running tasks' records and
process groups) and from files: the run records are written to the node's store and queued
for ZooKeeper, where the next agent sends them. Records are written before the kill, so a
live-but-stuck agent that sees its task die cannot record it first as merely 'failed'.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator.runs.record import RunRecord, RunStatus

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig

Say = Callable[[str], None]


@dataclass
class GuardedTask:
    """A scheduled task run the keeper must stop: its record, and its process once known."""

    run_id: str
    svc: str
    record: dict[str, Any]
    pid: int | None = None
    token: str | None = None
    started: float | None = None  # the command's create time: tells a reused pid apart


@dataclass
class Guarded:
    """Everything one agent started on this node and the keeper would have to stop."""

    services: dict[str, str] = field(default_factory=dict)  # name -> config text
    tasks: dict[str, GuardedTask] = field(default_factory=dict)  # run_id -> task

    def __bool__(self) -> bool:
        return bool(self.services or self.tasks)


def record_interrupted(node: NodeConfig, tasks: list[GuardedTask], reason: str,
                       clustered: bool, say: Say) -> list[str]:
    """Finish each task's run record as interrupted with ``reason``; the run ids written."""
    from orchestrator.runs.cluster_store import queue_record
    from orchestrator.runs.store import FileRunStore

    written = []
    for task in tasks:
        try:
            record = RunRecord.from_dict(task.record)
        except (KeyError, ValueError, TypeError) as exc:
            say(f"{task.svc}: run {task.run_id}: unreadable record ({exc}), not recorded")
            continue
        final = record.finished(RunStatus.INTERRUPTED, reason=reason)
        base = node.paths.service_var(task.svc) / "runs"
        try:
            if not FileRunStore(base).save(final):
                say(f"{task.svc}: run {task.run_id}: already ended ({_ended_as(base, record)})")
                continue
            if clustered:
                queue_record(base, final)
            written.append(task.run_id)
        except OSError as exc:
            say(f"{task.svc}: run {task.run_id}: cannot write its record: {exc}")
    return written


def _ended_as(base: Any, record: RunRecord) -> str:
    from orchestrator.runs.store import FileRunStore

    stored = FileRunStore(base).recorded(record.rid, record.run_id)
    return str(stored.status) if stored else "recorded"


def _processes_of(task: GuardedTask) -> Any:
    """The task's process tree; found by its run id when the agent never told us its pid."""

    from orchestrator.execution.tree import ProcessTree, processes_with_env

    pid = task.pid
    if pid is not None and task.started is not None and not _same_process(pid, task.started):
        # the leader is gone and its pid (and group id) may be reused: only the run's own
        # processes, found by its run token, are signalled
        return _TokenProcesses(task.token) if task.token else None
    if pid is None:
        found = processes_with_env("ORCHESTRATOR_RUN_ID", task.run_id)
        pid = found[0].pid if found else None
    return ProcessTree(pid, task.token) if pid is not None else None


class _TokenProcesses:
    """The processes of a run whose leader is gone, found by the run token alone (no group
    signal, no leader's children: its pid may belong to another process by now)."""

    pid = pgid = -1

    def __init__(self, token: str):
        self.token = token

    def _procs(self) -> list[Any]:
        from orchestrator.execution.environment import RUN_TOKEN_VAR
        from orchestrator.execution.tree import processes_with_env

        return processes_with_env(RUN_TOKEN_VAR, self.token)

    def signal(self, sig: int) -> None:
        import psutil

        for proc in self._procs():
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)

    def any_alive(self) -> bool:
        return bool(self._procs())

    def kill_all(self) -> None:
        self.signal(signal.SIGKILL)


def _same_process(pid: int, started: float) -> bool:
    from orchestrator.runs.store import process_alive

    return process_alive(pid, started)


def _leader_alive(pid: int) -> bool:
    from orchestrator.runs.store import process_alive

    return pid > 0 and process_alive(pid, None)


def kill_tasks(tasks: list[GuardedTask], grace: float, say: Say) -> None:
    """SIGTERM every task's process group at once, SIGKILL what is left after ``grace``."""
    trees = []
    for task in tasks:
        tree = _processes_of(task)
        if tree is None:
            say(f"{task.svc}: run {task.run_id}: no process found (it had not started)")
            continue
        trees.append((task, tree))
        tree.signal(signal.SIGTERM)
        say(f"{task.svc}: run {task.run_id}: SIGTERM to process group {tree.pgid}")
    deadline = time.monotonic() + grace
    while trees and time.monotonic() < deadline:
        if not any(_leader_alive(t.pid) or t.any_alive() for _, t in trees):
            return
        time.sleep(0.02)
    for task, tree in trees:
        if (tree.pid > 0 and _leader_alive(tree.pid)) or tree.any_alive():
            tree.kill_all()
            say(f"{task.svc}: run {task.run_id}: still alive after {grace:g}s, SIGKILLed")


def stop_services(node: NodeConfig, services: dict[str, str], say: Say) -> dict[str, int]:
    """Stop each service's resources (reverse order, their own timeouts), services side by
    side; the exit code of each stop (0 stopped)."""
    codes: dict[str, int] = {}

    def stop_one(name: str, text: str) -> None:
        from orchestrator.actions import lifecycle
        from orchestrator.config.errors import ConfigError
        from orchestrator.config.service import parse_service
        from orchestrator.resources import stopping
        from orchestrator.service import Service

        try:
            cfg = parse_service(text, str(node.paths.service_conf(name)), name, node.nodename,
                                node.service_context())
            with stopping.hard():  # the next node starts as our session expires
                codes[name] = lifecycle.stop(Service(cfg, node))
        except ConfigError as exc:
            say(f"{name}: cannot read the config it was started with: {exc}")
            codes[name] = 2
        except Exception as exc:  # noqa: BLE001 - one service's failure must not stop the rest
            say(f"{name}: stop failed: {exc!r}")
            codes[name] = 1
        say(f"{name}: stopped" if codes[name] == 0 else f"{name}: stop FAILED (code "
            f"{codes[name]}); see the service log")

    threads = [threading.Thread(target=stop_one, args=item, name=f"fence-{item[0]}")
               for item in services.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes
