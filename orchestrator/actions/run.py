"""``svcmgr -s SVC run``: select tasks, check requirements, confirm, run, report.

Per task: disabled -> requirements -> confirmation -> execution (taskrun). A manual run
stops at the first failing task that is not optional, like OpenSVC's actions; a ``--cron``
run (as the daemon would) treats each task on its own and skips unmet ones quietly.

When node.conf has ``[collector] url, token``, the records the action left are pushed to the
collector as it ends (queued on disk first; a collector that is down or slow delays them,
never fails nor holds up the run by more than ``push.CLI_PUSH_BUDGET`` seconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.actions import confirm
from orchestrator.errors import UsageError
from orchestrator.log import get_logger
from orchestrator.runs import RunRecord, RunStatus
from orchestrator.taskrun import TaskRun, execute, record_not_run, unmet_requirements

if TYPE_CHECKING:
    from collections.abc import Callable

    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service


class RunOptions:
    """The run action's selectors and switches (a plain class: svcmgr's start-up)."""

    __slots__ = ("rids", "tags", "subsets", "confirm", "cron")

    def __init__(self, rids: list[str] | None = None, tags: str | None = None,
                 subsets: list[str] | None = None, confirm: bool = False, cron: bool = False):
        self.rids: list[str] = list(rids or ())
        self.tags = tags
        self.subsets: list[str] = list(subsets or ())
        self.confirm = confirm
        self.cron = cron


def split_list(text: str | None) -> list[str]:
    return [w for w in (text or "").replace(" ", ",").split(",") if w]


def _matches_rid(rid: str, selectors: list[str]) -> bool:
    return not selectors or any(rid == s or rid.split("#")[0] == s for s in selectors)


def _matches_tags(tags: tuple[str, ...], expression: str | None) -> bool:
    """``a,b`` = a or b; ``a+b`` = a and b; both may combine (``a+b,c``)."""
    if not expression:
        return True
    have = set(tags)
    return any(all(t in have for t in alt.split("+") if t)
               for alt in expression.split(",") if alt)


def select_tasks(service: Service, opts: RunOptions) -> list[ResourceConfig]:
    """The tasks the selectors name; none at all is bad usage (exit 2), and so is an exact
    rid (``task#9``) naming no task, even beside valid ones: a typo must not pass silently."""
    known = {rc.rid for rc in service.tasks()}
    unknown = [s for s in opts.rids if "#" in s and s not in known]
    if unknown:
        raise UsageError(f"no task {', '.join(unknown)} in service {service.name!r}; "
                         f"tasks: {', '.join(sorted(known)) or 'none'}")
    chosen = [rc for rc in service.tasks()
              if _matches_rid(rc.rid, opts.rids)
              and _matches_tags(rc["tags"], opts.tags)
              and (not opts.subsets or rc["subset"] in opts.subsets)]
    if not chosen:
        what = []
        if opts.rids:
            what.append(f"--rid {','.join(opts.rids)}")
        if opts.tags:
            what.append(f"--tags {opts.tags}")
        if opts.subsets:
            what.append(f"--subsets {','.join(opts.subsets)}")
        selector = " ".join(what) if what else "(no selector)"
        raise UsageError(f"no task of service {service.name!r} matches {selector}")
    return chosen


def run_action(service: Service, opts: RunOptions,
               on_line: Callable[[str], None] | None = None) -> int:
    """Run the selected tasks; return the exit code (0 ok, 1 a task failed or was aborted)."""
    from orchestrator.builtins.push import push_run_records

    records: list[RunRecord] = []
    try:
        return _run_tasks(service, opts, on_line, records)
    finally:
        push_run_records(service.node, records)


def _run_tasks(service: Service, opts: RunOptions, on_line: Callable[[str], None] | None,
               records: list[RunRecord]) -> int:
    log = get_logger().bind(svc=service.name)

    def not_run(rc: ResourceConfig, run: TaskRun, status: RunStatus, reason: str) -> None:
        records.append(record_not_run(service, rc, run, status, reason))

    origin = "scheduler" if opts.cron else "manual"  # --cron: as the daemon would
    failed = False
    for rc in select_tasks(service, opts):
        tlog = log.bind(rid=rc.rid)
        run = TaskRun(origin=origin, on_line=on_line)
        if rc["disable"]:
            tlog.info("disabled, skipped")
            continue
        unmet = unmet_requirements(service, rc)
        if unmet:
            reason = "requirements not met: " + "; ".join(unmet)
            if opts.cron:
                not_run(rc, run, RunStatus.SKIPPED, reason)
                tlog.info(f"skipped: {reason}")
                continue
            not_run(rc, run, RunStatus.REFUSED, reason)
            tlog.error(reason)
            if rc["optional"]:
                continue
            log.error(f"'run' action stopped on execution error: {rc.rid}: {reason}")
            return 1
        if rc["confirmation"]:
            if opts.cron:
                reason = "confirmation task: never run by the scheduler"
                not_run(rc, run, RunStatus.SKIPPED, reason)
                tlog.info(f"skipped: {reason}")
                continue
            if not opts.confirm:
                answer = confirm.ask(rc.rid)
                if answer != confirm.Answer.YES:
                    reason = {
                        confirm.Answer.NO: "run aborted",
                        confirm.Answer.TIMEOUT: "timeout waiting for confirmation",
                        confirm.Answer.NO_TERMINAL:
                            "run aborted: confirmation needed but stdin is not a terminal "
                            "(use --confirm)",
                    }[answer]
                    not_run(rc, run, RunStatus.ABORTED, reason)
                    log.error(f"'run' action stopped on execution error: {reason}")
                    return 1
                tlog.info("run confirmed")
        record = execute(service, rc, run, log=lambda level, msg, _l=tlog: getattr(_l, level)(msg))
        records.append(record)
        if record.status == RunStatus.OK:
            continue
        tlog.error(f"run {record.run_id} {record.status}: {record.reason}")
        if rc["optional"]:
            continue
        failed = True
        if not opts.cron:
            log.error(f"'run' action stopped on execution error: {rc.rid}: {record.reason}")
            return 1
    return 1 if failed else 0
