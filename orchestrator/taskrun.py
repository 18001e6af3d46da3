"""Run one task once, manual or scheduled, and leave a run record saying how it went.

This is the execution path shared by ``svcmgr run`` and the daemon's scheduler:
requirements -> overlap guard (max_parallel) -> pre hooks -> command -> post hooks ->
on_error -> record. Confirmation is asked by the caller (only manual runs ask).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orchestrator.log import get_logger
from orchestrator.resources.commands import command_spec
from orchestrator.resources.instance import resource_status
from orchestrator.runs import RunRecord, RunStatus, RunStore, new_run_id

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.execution import CommandResult
    from orchestrator.service import Service


def unmet_requirements(service: Service, rc: ResourceConfig) -> list[str]:
    """One sentence per ``run_requires`` item whose resource is not in a wanted state."""
    unmet = []
    for req in rc["run_requires"]:
        current = resource_status(service, req.rid).status
        if str(current) not in req.states:
            wanted = " or ".join(req.states)
            unmet.append(f"{req.rid} is {current}, wanted {wanted}")
    return unmet


def _per_node(service: Service, rc: ResourceConfig) -> bool:
    """Does each node count this task's max_parallel for itself?"""
    flex_instance = service.config.flex and rc.get("run_scope", "instance") == "instance"
    return bool(rc["run_requires"]) or flex_instance


class TaskRun:
    """Inputs of one run: who asked, for which slot, and where output lines go.

    * ``origin``: "manual" or "scheduler";
    * ``on_start``: the daemon keeps the running command to terminate it on a relocation
      or a fence;
    * ``store``: where the record goes; default: the service's own store;
    * ``on_begin``: the daemon hands the record to the node's fence keeper before anything
      starts; a reason returned refuses the run (the keeper could not be told: it could
      not stop it).

    A plain class, not a dataclass: svcmgr's start-up (bench/README.md)."""

    __slots__ = ("origin", "scheduled_at", "on_line", "epoch", "on_start", "store", "on_begin")

    def __init__(self, origin: str = "manual", scheduled_at: datetime | None = None,
                 on_line: Callable[[str], None] | None = None, epoch: int | None = None,
                 on_start: Callable[[Any], None] | None = None, store: RunStore | None = None,
                 on_begin: Callable[[RunRecord], str | None] | None = None):
        self.origin = origin
        self.scheduled_at = scheduled_at
        self.on_line = on_line
        self.epoch = epoch
        self.on_start = on_start
        self.store = store
        self.on_begin = on_begin

    def __repr__(self) -> str:
        return (f"TaskRun(origin={self.origin!r}, scheduled_at={self.scheduled_at!r}, "
                f"epoch={self.epoch!r})")


_IDENTITY: dict[int, tuple[int, float | None]] = {}


def _process_identity() -> tuple[int, float | None]:
    """This process's pid and create time, so a stale 'running' marker can be told apart.

    Read once per process (the daemon runs hundreds of tasks a minute; /proc/stat is big)."""
    pid = os.getpid()
    known = _IDENTITY.get(pid)
    if known is None:
        known = _IDENTITY[pid] = _read_identity(pid)
    return known


def _read_identity(pid: int) -> tuple[int, float | None]:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith("btime"))
        return pid, btime + int(fields[19]) / ticks
    except (OSError, ValueError, IndexError, StopIteration):
        return pid, None


def record_not_run(service: Service, rc: ResourceConfig, run: TaskRun, status: RunStatus,
                   reason: str) -> RunRecord:
    """A run that never started (skipped, refused, aborted, missed) still leaves a record."""
    now = datetime.now(UTC)
    record = RunRecord(new_run_id(now), service.name, rc.rid, service.nodename, run.origin,
                       status, scheduled_at=run.scheduled_at, ended_at=now, reason=reason,
                       epoch=run.epoch)
    (run.store or service.runs).save(record)
    return record


def execute(service: Service, rc: ResourceConfig, run: TaskRun,
            log: Callable[..., None] | None = None) -> RunRecord:
    """Run the task now; return its final record. Never raises for a task's own failure."""
    from orchestrator.errors import OrchestratorError
    from orchestrator.execution.executors import TaskContext, executor_for

    say = log or (lambda *a, **k: None)
    now = datetime.now(UTC)
    run_id = new_run_id(now)
    store = run.store or service.runs
    log_path = store.log_path(rc.rid, run_id)
    pid, pid_started = _process_identity()
    executor, host = executor_for(rc.get("type")), executor_for("host")  # hooks: on the host
    record = RunRecord(run_id, service.name, rc.rid, service.nodename, run.origin,
                       RunStatus.RUNNING, scheduled_at=run.scheduled_at, started_at=now,
                       log_path=str(log_path), pid=pid, pid_started=pid_started, epoch=run.epoch,
                       # a task run_requires lets run on every node, and a flex service's
                       # task every instance runs for itself: max_parallel is per node
                       extra={**({"scope": "node"} if _per_node(service, rc) else {}),
                              **executor.record_extra(service, rc, run_id)})
    try:
        blocking = store.begin(record, max_parallel=rc["max_parallel"])
    except (OrchestratorError, OSError) as exc:
        return _not_begun(store, record, exc)
    if blocking:
        ids = ", ".join(r.run_id for r in blocking)
        return record_not_run(service, rc, run, RunStatus.REFUSED,
                               f"already running (max_parallel={rc['max_parallel']}: {ids})")
    refused = run.on_begin(record) if run.on_begin is not None else None
    if refused:
        return _finish(store, record, RunStatus.REFUSED, None, refused)
    env = {"ORCHESTRATOR_RUN_ID": run_id, "ORCHESTRATOR_ORIGIN": run.origin}
    if run.scheduled_at:
        env["ORCHESTRATOR_SCHEDULED_AT"] = run.scheduled_at.isoformat()

    def command(text: str, action: str, timeout: float | None = None,
                step: str | None = None) -> CommandResult:
        """Run one command of the run; hooks log beside the run's log (each log is rewritten)."""
        spec = command_spec(service, rc, text, action, env, timeout)
        path = log_path if step is None else log_path.with_suffix(f".{step}.log")
        if step is None:
            handle = executor.start(spec, path, on_line=run.on_line,
                                    task=TaskContext(service, rc, run_id))
        else:
            handle = host.start(spec, path, on_line=run.on_line)
        store.note_command(record, handle.pid, _read_identity(handle.pid)[1])
        if run.on_start is not None:
            run.on_start(handle)
        try:
            return handle.wait()
        except BaseException:
            handle.terminate("interrupted")
            handle.wait()
            raise

    def hook(name: str) -> str | None:
        text = rc[name]
        if not text:
            return None
        try:
            result = command(text, "run", timeout=rc["timeout"], step=name)
        except OrchestratorError as exc:
            return f"{name} could not run: {exc}"
        if result.exit_code != 0:
            return f"{name} exited with code {result.exit_code}"
        return None

    try:
        for name in ("blocking_pre_run", "pre_run"):
            error = hook(name)
            if error and name.startswith("blocking"):
                return _finish(store, record, RunStatus.FAILED, None, error)
            if error:
                say("warning", error)
        # a container task without a command runs its image's: the text only says so
        text = rc["command"] or f"(the default command of {rc.get('image')})"
        say("info", text)
        try:
            result = command(text, "run")
        except OrchestratorError as exc:
            code = getattr(exc, "returncode", None)
            status = RunStatus.REFUSED if code is None else RunStatus.FAILED
            _on_error(service, rc, command, say)
            return _finish(store, record, status, code, str(exc))
        if result.interrupted and not result.timed_out:
            status, reason = RunStatus.INTERRUPTED, f"interrupted: {result.interrupted}"
        elif result.timed_out:
            status, reason = RunStatus.TIMEOUT, f"timed out after {rc['timeout']:g}s, killed"
        elif not _succeeded(rc, result.exit_code):
            status, reason = RunStatus.FAILED, f"exited with code {result.exit_code}"
        else:
            status, reason = RunStatus.OK, None
        for name in ("post_run", "blocking_post_run"):
            error = hook(name)
            if error and name.startswith("blocking") and status == RunStatus.OK:
                status, reason = RunStatus.FAILED, error
            elif error:
                say("warning", error)
        if status != RunStatus.OK:
            _on_error(service, rc, command, say)
        return _finish(store, record, status, result.exit_code, reason)
    except BaseException as exc:  # interrupted (Ctrl-C, daemon stop): never leave "running"
        _finish(store, record, RunStatus.INTERRUPTED, None, f"interrupted: {exc!r}")
        raise


def _succeeded(rc: ResourceConfig, exit_code: int | None) -> bool:
    """The command's exit code maps to up through the task's retcodes (om3: 0:up 1:down
    by default; a code they do not name is warn, a failure)."""
    codes = rc.get("retcodes")
    if codes is None or exit_code is None:
        return exit_code == 0
    return codes.status(exit_code) == "up"


def _not_begun(store: RunStore, record: RunRecord, exc: BaseException) -> RunRecord:
    """The store could not begin the run (ZooKeeper lost, disk full): nothing ran, yet the
    run leaves a record, under its own run id so the store frees whatever it half took."""
    from orchestrator.errors import OrchestratorError

    now = datetime.now(UTC)
    final = record._replace(status=RunStatus.REFUSED, started_at=None, ended_at=now,
                            reason=f"could not take the run slot: {exc}", pid=None, pid_started=None)
    try:
        store.save(final)
    except (OrchestratorError, OSError) as again:  # the caller still gets the record
        get_logger("taskrun").error("run record not saved", run_id=final.run_id,
                                    reason=final.reason, error=str(again))
    return final


def _on_error(service: Service, rc: ResourceConfig,
              command: Callable[..., CommandResult], say: Callable[..., None]) -> None:
    from orchestrator.errors import OrchestratorError

    if not rc["on_error"]:
        return
    try:
        result = command(rc["on_error"], "run", timeout=rc["timeout"], step="on_error")
        if result.exit_code != 0:
            say("warning", f"on_error exited with code {result.exit_code}")
    except OrchestratorError as exc:
        say("warning", f"on_error could not run: {exc}")


def _finish(store: RunStore, record: RunRecord, status: RunStatus, exit_code: int | None,
            reason: str | None) -> RunRecord:
    final = record.finished(status, exit_code=exit_code, reason=reason)._replace(pid=None)
    if store.save(final) is False:  # the fence keeper had the first word: say what it said
        recorded = getattr(store, "recorded", None)
        return (recorded(record.rid, record.run_id) if recorded else None) or final
    return final
