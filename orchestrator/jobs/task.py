"""The ``run`` job kind: one job per task resource, run through the same execution path as
``svcmgr run --cron`` (taskrun), each command it starts tracked for a relocation or fence
(``Firing.running``) and known to the node's fence keeper while it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.jobs.model import Firing, Job, JobKind, slot_key
from orchestrator.jobs.service_kinds import service_job
from orchestrator.jobs.where import requirements_why
from orchestrator.log import get_logger

if TYPE_CHECKING:
    from orchestrator.jobs.hosts import TaskHost
    from orchestrator.runs import RunRecord
    from orchestrator.service import Service

log = get_logger()


def task_jobs(svc: Service) -> list[Job]:
    jobs = []
    for rc in svc.tasks():
        if rc["schedule"] is not None:
            param, definition = f"{rc.rid}.schedule", rc["schedule"]
        else:
            param, definition = "DEFAULT.run_schedule", svc.config.defaults["run_schedule"]
        why = None
        if rc["disable"]:
            why = "disabled"
        elif rc["confirmation"]:
            why = "confirmation task: never scheduled"
        jobs.append(service_job(svc, "run", rc.rid, param, definition, why,
                                node_scoped=bool(rc["run_requires"]),
                                instance=rc["run_scope"] == "instance"
                                and not rc["run_requires"]))
    return jobs


def run_task(host: TaskHost, firing: Firing) -> None:
    from orchestrator.runs import RunStatus
    from orchestrator.taskrun import TaskRun, execute, record_not_run

    rt = host.runtimes.get(firing.svc)
    if rt is None or rt.service is None or firing.job.rid is None:
        return
    svc = rt.service
    rc = svc.resource(firing.job.rid)
    tlog = log.bind(svc=firing.svc, rid=rc.rid)
    run = TaskRun(origin="scheduler", scheduled_at=firing.slot, epoch=firing.epoch or None,
                  store=firing.store)
    unmet = requirements_why(svc, firing.job)
    if unmet:
        record_not_run(svc, rc, run, RunStatus.SKIPPED, unmet)
        tlog.info(f"skipped: {unmet}")
        return
    box: dict[str, Any] = {}
    keeper = host.keeper

    def on_begin(begun: RunRecord) -> str | None:
        box["run_id"] = begun.run_id
        if keeper is not None and not keeper.task(begun.run_id, firing.svc, begun.to_dict()):
            return ("the node's fence keeper does not answer: it could not stop this run "
                    "if the agent died")
        return None

    def on_start(handle: Any) -> None:
        box.setdefault("handles", []).append(handle)  # each hook's, the command's
        firing.running[id(handle)] = handle
        if keeper is not None:
            from orchestrator.runs.store import process_started

            keeper.task_pid(box["run_id"], handle.pid, handle.run_token,
                            process_started(handle.pid))
        if not firing.allowed():  # the service began stopping while this one started
            handle.terminate("the service is stopping on this node", grace=2.0)

    run.on_begin, run.on_start = on_begin, on_start
    try:
        record = execute(svc, rc, run, log=lambda level, msg: getattr(tlog, level)(msg))
    finally:
        if keeper is not None and "run_id" in box:
            keeper.task_done(box["run_id"])
    for handle in box.get("handles", []):
        firing.running.pop(id(handle), None)
    tlog.info(f"scheduled run {record.run_id} for {slot_key(firing.slot)}: {record.status}"
              + (f" ({record.reason})" if record.reason else ""))


KIND = JobKind("run", "service", task_jobs, run_task)
