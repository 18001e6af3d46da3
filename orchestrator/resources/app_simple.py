"""``type = simple``: the start command is the app itself, a foreground process the agent
(or ``svcmgr start``) starts detached in a session of its own and tracks.

The pidfile ``<var>/resources/<rid>.pid`` holds its pid, its create time (psutil's) and its
run token: a pid reused by another process has another create time, so it is never taken
for the app, and every process the app started carries the token in its environment. The
status is up while that process lives (a zombie is dead: a killed orphan nobody reaps stays
one); with a ``check`` command, the check decides instead. Stop runs the ``stop`` command if
there is one, then signals what is left: SIGTERM to the process (``kill = parent``) or to
its group and every process carrying its token (``kill = tree``, the default: om3 signals
every process of the resource), SIGKILL after ``stop_timeout``. Stop needs nothing but the
config and the pidfile, so the fence keeper can stop an app the dead agent started; it is
idempotent. The app's output is appended to ``<var>/resources/<rid>.output.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.log import get_logger
from orchestrator.resources import app_forking, stopping
from orchestrator.resources.app_actions import ScriptMissing, ScriptUnset, command_of, timeout_of
from orchestrator.resources.app_check import check, has_check
from orchestrator.resources.commands import command_spec, resource_log
from orchestrator.resources.status import Status

if TYPE_CHECKING:
    import psutil

    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

EARLY_EXIT = 0.05  # a start command that ends this soon failed to start (om3: 20 ms)
STOP_GRACE = 5.0  # SIGTERM to SIGKILL when neither stop_timeout nor timeout is set
KILL_WAIT = 2.0  # how long a SIGKILLed process may take to be gone
POLL = 0.05  # a tree's processes are found by a scan of /proc: not too often


@dataclass(frozen=True)
class Tracked:
    """The app's process as its pidfile names it."""

    pid: int
    started: float  # psutil create time
    token: str  # ORCHESTRATOR_RUN_TOKEN of every process it started


def pidfile(service: Service, rc: ResourceConfig) -> Path:
    return service.var / "resources" / f"{rc.rid}.pid"


def read_pidfile(path: Path) -> Tracked | None:
    try:
        data = json.loads(path.read_text())
        return Tracked(int(data["pid"]), float(data["started"]), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_pidfile(path: Path, tracked: Tracked, command: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"pid": tracked.pid, "started": tracked.started,
                               "token": tracked.token, "command": command}))
    os.replace(tmp, path)


def _process(pid: int, started: float | None = None) -> psutil.Process | None:
    """The live process ``pid`` (the same one when ``started`` is given), else None."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if started is not None and abs(proc.create_time() - started) >= 0.01:
            return None  # the pid now belongs to another process
        return None if proc.status() == psutil.STATUS_ZOMBIE else proc
    except psutil.Error:
        return None


def leader(tracked: Tracked | None) -> psutil.Process | None:
    return _process(tracked.pid, tracked.started) if tracked else None


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str | None]:
    if has_check(service, rc):
        return check(service, rc)
    tracked = read_pidfile(pidfile(service, rc))
    if tracked is None:
        return Status.DOWN, None
    if leader(tracked) is None:
        return Status.DOWN, f"process {tracked.pid} is gone"
    return Status.UP, None


def start(service: Service, rc: ResourceConfig,
          on_line: Callable[[str], None] | None = None) -> str | None:
    """Start the process unless the tracked one still lives; an error sentence or None."""
    from orchestrator.errors import OrchestratorError
    from orchestrator.execution.detached import reap_in_background, spawn_detached

    log = get_logger().bind(svc=service.name, rid=rc.rid)
    try:
        command = command_of(service, rc, "start")
    except ScriptMissing as exc:
        return f"start command cannot run: {exc}"
    if not command:
        return "a simple app needs a start command"
    path = pidfile(service, rc)
    running = leader(read_pidfile(path))
    if running is not None:
        log.info(f"already up (pid {running.pid})")
        return None
    output = resource_log(service, rc, "output")
    with contextlib.suppress(OSError), open(output, "a") as fh:
        fh.write(f"[orchestrator] {datetime.now(UTC).isoformat()} start: {command}\n")
    token = os.urandom(16).hex()  # as secrets.token_hex, without importing secrets
    try:
        proc = spawn_detached(command_spec(service, rc, command, "start"), output, token)
    except OrchestratorError as exc:
        return f"start command could not run: {exc}"
    tracked = Tracked(proc.pid, _create_time(proc.pid), token)
    _write_pidfile(path, tracked, command)
    log.info(f"started pid {proc.pid}: {command}")
    try:
        code = proc.wait(EARLY_EXIT)
    except subprocess.TimeoutExpired:
        reap_in_background(proc)
        return None
    path.unlink(missing_ok=True)
    last = _last_line(output)
    return f"start command exited at once with code {code}" + (f": {last}" if last else "")


def _create_time(pid: int) -> float:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:  # gone already (and reaped): nothing will ever match it
        return 0.0


def _last_line(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - 4096))
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return None
    return lines[-1].strip() if lines and not lines[-1].startswith("[orchestrator]") else None


def stop(service: Service, rc: ResourceConfig,
         on_line: Callable[[str], None] | None = None) -> str | None:
    """The stop command if set, then the signals to whatever of the app still lives."""
    try:
        has_stop = command_of(service, rc, "stop") is not None
    except ScriptMissing as exc:
        if isinstance(exc, ScriptUnset):
            get_logger().bind(svc=service.name, rid=rc.rid).warning(
                f"no stop command: {exc}; the process is signalled")
        has_stop = False
    if has_stop:
        error = app_forking.run_action(service, rc, "stop", on_line)
        if error:
            return error
    return terminate(service, rc)


def terminate(service: Service, rc: ResourceConfig) -> str | None:
    """SIGTERM, then SIGKILL after the grace; None once nothing of the app lives."""
    log = get_logger().bind(svc=service.name, rid=rc.rid)
    path = pidfile(service, rc)
    tracked = read_pidfile(path)
    if tracked is None:
        return None
    grace = stopping.grace(timeout_of(rc, "stop") or STOP_GRACE)  # fencing: SIGKILL at once
    tree = rc["kill"] == "tree"
    if not _signal(tracked, tree, signal.SIGTERM):
        path.unlink(missing_ok=True)
        return None
    log.info(f"SIGTERM sent to {'the process tree of ' if tree else ''}pid {tracked.pid}, "
             f"SIGKILL in {grace:g}s")
    if _wait_gone(tracked, tree, grace):
        path.unlink(missing_ok=True)
        return None
    log.warning(f"pid {tracked.pid} still alive after {grace:g}s: SIGKILL")
    _signal(tracked, tree, signal.SIGKILL)
    if _wait_gone(tracked, tree, KILL_WAIT):
        path.unlink(missing_ok=True)
        return None
    return f"process {tracked.pid} still alive {KILL_WAIT:g}s after SIGKILL"


def _targets(tracked: Tracked, tree: bool) -> list[Any]:
    """The app's live processes: its leader, and with ``tree`` every process carrying its
    token (those that left its group too)."""
    from orchestrator.execution.environment import RUN_TOKEN_VAR
    from orchestrator.execution.tree import processes_with_env

    found = {}
    head = leader(tracked)
    if head is not None:
        found[head.pid] = head
    if tree:
        for proc in processes_with_env(RUN_TOKEN_VAR, tracked.token):
            found.setdefault(proc.pid, proc)
    return list(found.values())


def _signal(tracked: Tracked, tree: bool, sig: int) -> bool:
    """Send ``sig``; False when nothing of the app was alive to receive it."""
    import psutil

    procs = _targets(tracked, tree)
    if not procs:
        return False
    group = None
    if tree and leader(tracked) is not None:  # the group id is the live leader's own pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(tracked.pid, sig)
            group = tracked.pid
    for proc in procs:  # those outside the group (each process gets the signal once)
        with contextlib.suppress(psutil.Error, OSError):
            if group is None or os.getpgid(proc.pid) != group:
                proc.send_signal(sig)
    return True


def _wait_gone(tracked: Tracked, tree: bool, seconds: float) -> bool:
    """Whether nothing of the app lives within ``seconds`` (polled quickly at first: most
    apps exit on SIGTERM in a few milliseconds)."""
    deadline = time.monotonic() + seconds
    pause = 0.002
    while True:
        if not _targets(tracked, tree):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, POLL)
