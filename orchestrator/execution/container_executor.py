"""Container tasks (types docker, podman, oci): the task's command runs in a container of
its own, ``ENGINE run [--rm] --name <name>.<run id> ... IMAGE COMMAND``, removed after.

The engine's client is the run's process (its output, the container's, goes to the run
log; its exit code, the container's, is the run's), but the container lives under the
engine (podman's conmon, docker's daemon), out of reach of the process-group kill that
ends a host task. So the container is ended through the engine: a timeout or a terminate
runs ``ENGINE stop -t <grace>`` (SIGTERM, SIGKILL after the grace, as for host tasks), and
whatever ends the client (a SIGKILL included) is followed by ``ENGINE rm -f``. The name
carries the run id and goes into the run record's ``extra``, so the fence keeper, which
kills the client's group without this object, removes the container too
(:func:`remove_run_containers`).
"""

from __future__ import annotations

import math
import shlex
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.execution.errors import CommandStartError
from orchestrator.execution.spec import CommandSpec
from orchestrator.execution.task_context import TaskContext
from orchestrator.resources import container_engine as engines
from orchestrator.resources.container_args import (
    LABEL_RUN,
    ArgsError,
    container_environment,
    ensure_mount_sources,
    run_args,
    task_container_name,
)

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.execution.process import CommandResult, RunningCommand
    from orchestrator.service import Service

GRACE = 15.0  # beyond an engine stop's own -t before its client is signalled too
RECORD_KEY = "container"  # a run record's extra: {"engine": path, "name": name}


class ContainerExecutor:
    """Runs a task's command in a container of ``kind`` (docker, podman, oci)."""

    def __init__(self, kind: str):
        self.kind = kind

    def record_extra(self, service: Service, rc: ResourceConfig, run_id: str
                     ) -> dict[str, Any]:
        """Where the run's container is, for whoever must kill the run without us."""
        try:
            engine = engines.resolve(self.kind).path
        except engines.EngineMissing:
            engine = None
        return {RECORD_KEY: {"engine": engine, "name": task_container_name(service, rc,
                                                                           run_id)}}

    def start(self, spec: CommandSpec, log_path: Path,
              on_line: Callable[[str], None] | None = None,
              task: TaskContext | None = None) -> ContainerRun:
        from orchestrator.execution.process import start

        if task is None:
            raise ValueError("a container task needs its task context")
        service, rc = task.service, task.rc
        name = task_container_name(service, rc, task.run_id)
        try:
            engine = engines.resolve(self.kind)
            ensure_mount_sources(rc)
            # no --rm with docker: a Docker CLI on podman's API (4.3) then reports exit 0
            # whatever the container's code; the container is removed after the run anyway
            args = run_args(service, rc, name, engine=engine.kind, detach=False,
                            remove=engine.kind == "podman",
                            environment=container_environment(service, rc, spec.environment),
                            labels={LABEL_RUN: task.run_id}, limits=spec.limits)
        except (engines.EngineMissing, ArgsError, OSError) as exc:
            _write_log(log_path, f"[orchestrator] {exc}")
            raise CommandStartError(str(exc), returncode=127 if isinstance(
                exc, engines.EngineMissing) else 126) from None
        if rc["image_pull_policy"] == "always":
            args.insert(1, "--pull=always")
        argv = (engine.path, *args)
        client_env = {**spec.environment, **engines.engine_environment()}
        client = CommandSpec(command=shlex.join(argv), argv=argv, environment=client_env,
                             kill_grace=spec.kill_grace)
        running = start(client, log_path, on_line=on_line)
        running.note(f"container {name}: {shlex.join(argv)}")
        return ContainerRun(running, engine, name, spec.timeout, spec.kill_grace)


class ContainerRun:
    """A running container task: the client's RunningCommand, whose ends go through the
    engine. Same surface as RunningCommand (pid, run_token, poll, done, wait, terminate)."""

    def __init__(self, client: RunningCommand, engine: engines.Engine, name: str,
                 timeout: float | None, kill_grace: float):
        self.client = client
        self.pid = client.pid
        self.spec = client.spec
        self.name = name
        self._engine = engine
        self._timeout = timeout
        self._grace = kill_grace
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._timed_out = False
        self._result: CommandResult | None = None
        self._done = threading.Event()
        threading.Thread(target=self._watch, name=f"container-{client.pid}", daemon=True).start()

    @property
    def run_token(self) -> str | None:
        return self.client.run_token

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def poll(self) -> CommandResult | None:
        return self._result

    def wait(self, timeout: float | None = None) -> CommandResult:
        if not self._done.wait(timeout):
            raise TimeoutError(f"container {self.name} (client pid {self.pid}) still running")
        assert self._result is not None
        return self._result

    def terminate(self, reason: str, grace: float | None = None) -> None:
        """Stop the container (SIGTERM, SIGKILL after ``grace``); returns at once."""
        self._stop(reason, self._grace if grace is None else grace, timed_out=False)

    def _stop(self, reason: str, grace: float, timed_out: bool) -> None:
        with self._lock:
            if self._reason is not None or self.client.done:
                return
            self._reason, self._timed_out = reason, timed_out
        threading.Thread(target=self._stop_container, args=(reason, grace), daemon=True,
                         name=f"container-stop-{self.pid}").start()

    def _stop_container(self, reason: str, grace: float) -> None:
        seconds = max(0, math.ceil(grace))
        self.client.note(f"terminating ({reason}): {self._engine} stop -t {seconds} "
                         f"{self.name} (SIGTERM, SIGKILL after {seconds}s)")
        stopped = engines.call(self._engine, ["container", "stop", "-t", str(seconds),
                                              self.name], seconds + GRACE)
        if not stopped.ok:  # not made yet (a pull, a start under way), or the engine balks:
            self.client.note(f"{self._engine} stop: {stopped.why()}; ending its client")
            self.client.terminate(reason, grace)  # whatever it left, _watch removes
            return
        try:
            self.client.wait(GRACE)
        except TimeoutError:  # the engine did not end it: the client at least goes
            self.client.terminate(reason, 0)

    def _watch(self) -> None:
        try:
            self.client.wait(self._timeout)
        except TimeoutError:
            self._stop(f"timeout after {self._timeout:g}s", self._grace, timed_out=True)
        result = self.client.wait()
        removed = engines.remove(self._engine, self.name)  # --rm did it, unless the client died
        if not removed.ok and not engines.gone(self._engine, self.name):
            self.client.note(f"container {self.name} could not be removed: {removed.why()}")
        with self._lock:
            reason, timed_out = self._reason, self._timed_out
        if reason is not None:
            result = result._replace(interrupted=reason, timed_out=timed_out)
        self._result = result
        self._done.set()


def _write_log(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


def remove_run_containers(records: Iterable[Mapping[str, Any]],
                          say: Callable[[str], None]) -> None:
    """Remove the containers of these runs' records (the fence keeper, after it killed
    their clients): ``ENGINE rm -f`` by the name each record carries."""
    for record in records:
        where = (record.get("extra") or {}).get(RECORD_KEY) or {}
        path, name = where.get("engine"), where.get("name")
        if not path or not name:
            continue
        engine = engines.Engine("container", path)
        result = engines.remove(engine, name)
        if result.ok or engines.gone(engine, name):
            say(f"{record.get('service', '?')}: run {record.get('run_id', '?')}: container "
                f"{name} removed")
        else:
            say(f"{record.get('service', '?')}: run {record.get('run_id', '?')}: container {name} "
                f"NOT removed: {result.why()}")
