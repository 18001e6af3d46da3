"""The daemon's scheduler: runs each service's jobs when due, where they may run, once.

For each job it keeps the next due slot, computed by the pure schedule math from the last
run. In a cluster the last run is the newest *claim* in ZooKeeper, and a slot is claimed
(under the active-instance lease, fencing epoch checked in the same transaction) before the
process starts: a node that is not the lease holder, or whose session is suspended, cannot
claim, so no slot runs twice. A job that ``run_requires`` lets run on several nodes keeps its
claims per node. Missed slots (nothing could run the job) follow the job's misfire policy
and are recorded with their reason.

Runs use the same execution path as ``svcmgr run --cron`` (taskrun), in pooled threads
(daemon.workers).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from orchestrator.daemon.entries import Entry
from orchestrator.daemon.ledger import ClusterLedger, Ledger, LocalLedger, slot_key
from orchestrator.daemon.workers import WorkerPool
from orchestrator.jobs import job_schedule, node_scoped, service_jobs
from orchestrator.runs import RunRecord, RunStatus, new_run_id

if TYPE_CHECKING:
    from orchestrator.daemon.host import SchedulerHost, ServiceRuntime

log = structlog.get_logger()
ON_TIME = timedelta(seconds=5)
# a never-run job's first slot is written to the cluster this long before it comes due (a
# failover after that catches it up); not at load: 10,000 writes would stall the first tick
SHARE_AHEAD = timedelta(seconds=60)


class Scheduler:
    def __init__(self, agent: SchedulerHost):
        self.agent = agent
        self.ledger: Ledger = ClusterLedger(agent) if agent.clustered else LocalLedger(agent)
        self.entries: dict[tuple[str, str], Entry] = {}
        self.lock = threading.RLock()
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pool = WorkerPool("run")
        self.clock = time.monotonic
        self.launches: list[tuple[Entry, datetime, int]] = []  # fired in this tick

    # ------------------------------------------------------------------ table

    def load(self, rt: ServiceRuntime) -> None:
        """(Re)build the jobs of a service from its config; keeps known last runs."""
        svc = rt.service
        with self.lock:
            old = {k: e for k, e in self.entries.items() if k[0] == rt.name}
            for k in old:
                del self.entries[k]
            if svc is None:
                return
            defaults = svc.config.defaults
            for job in service_jobs(svc):
                if job.why_not is not None:
                    continue
                rc = svc.resource(job.rid) if job.rid else None
                policy = (rc.get("misfire") if rc and rc.get("misfire") else defaults["misfire"])
                grace_s = (rc.get("misfire_grace") if rc and rc.get("misfire_grace") is not None
                           else defaults["misfire_grace"])
                grace = timedelta(seconds=grace_s) if grace_s is not None else None
                entry = Entry(rt.name, job, job_schedule(svc, job), node_scoped(svc, job), policy,
                              grace)
                prev = old.get((rt.name, job.key))
                if prev is not None and prev.job.schedule_definition == job.schedule_definition:
                    entry.last, entry.last_known, entry.running = (prev.last, prev.last_known,
                                                                   prev.running)
                self.entries[(rt.name, job.key)] = entry
        self.wake.set()

    def forget_last(self, svc: str) -> None:
        """The service became active here: re-read last runs from the cluster before running."""
        with self.lock:
            for (name, _), entry in self.entries.items():
                if name == svc and not entry.node_scoped:
                    entry.last_known = False
                    entry.due = None
        self.wake.set()

    # ------------------------------------------------------------------ thread

    def start(self) -> None:
        self.thread = threading.Thread(target=self.loop, name="scheduler", daemon=True)
        self.thread.start()

    def loop(self) -> None:
        while not self.agent.stop_event.is_set():
            began = self.clock()
            try:
                wait = self.tick(datetime.now(UTC))
            except Exception as exc:  # noqa: BLE001 - the scheduler must survive anything
                log.exception(f"scheduler: tick failed: {exc!r}")
                wait = 1.0
            wait -= self.clock() - began  # the wait counts from the tick's start
            self.wake.wait(max(0.001, min(wait, 1.0)))
            self.wake.clear()

    def tick(self, now: datetime) -> float:
        """Run what is due; return seconds from ``now`` until the next due slot.

        Due slots are all claimed first, then launched together: a launch made mid-loop
        would compete for the GIL with the claims of the slots after it.
        """
        with self.lock:
            entries = list(self.entries.values())
        self.ledger.settle(now)
        earliest = now + timedelta(seconds=1)
        allowed: dict[tuple[str, bool], bool] = {}  # may_run is the same for a service's jobs
        due_now: list[Entry] = []
        for entry in entries:
            scope = (entry.svc, entry.node_scoped)
            ok = allowed.get(scope)
            if ok is None:
                ok = allowed[scope] = self.may_run(entry)
            if not ok:
                entry.due = None
                continue
            due = entry.due
            if due is not None and due > now and entry.last_known:  # the common case: idle
                if due - now <= SHARE_AHEAD and self.ledger.first_due_unshared(entry):
                    self.ledger.share_first_due(entry)
                if due < earliest:
                    earliest = due
                continue
            if not entry.last_known and not self.ledger.read_last(entry):
                continue
            if entry.due is None:
                entry.due = self.next_due(entry, now)
            if entry.due is None:
                continue
            if entry.due - now <= SHARE_AHEAD and self.ledger.first_due_unshared(entry):
                self.ledger.share_first_due(entry)
            if entry.due <= now:
                due_now.append(entry)
            elif entry.due < earliest:
                earliest = entry.due
        if due_now:
            self.fire(due_now, now)
        for entry in due_now:
            # a claim that failed: the next slot follows the cluster's last run, re-read
            entry.due = self.next_due(entry, now) if entry.last_known else None
            if entry.due is not None and entry.due < earliest:
                earliest = entry.due
        launches, self.launches = self.launches, []
        for entry, slot, epoch in launches:
            self.launch(entry, slot, epoch)
        self.agent.flush_records()
        return (earliest - now).total_seconds()

    # ------------------------------------------------------------------ rules

    def may_run(self, entry: Entry) -> bool:
        """Run here only on the active instance, unless the job is node-scoped."""
        if not self.ledger.usable():
            return False
        rt = self.agent.runtimes.get(entry.svc)
        if rt is None or rt.service is None:
            return False
        if not self.ledger.needs_lease(entry):
            return True
        return self.agent.lease_of(entry.svc) is not None and rt.started

    def next_due(self, entry: Entry, now: datetime) -> datetime | None:
        if entry.last is None:
            # whole seconds: a cron slot is then the same instant (and claim name) on every
            # node, instead of "now" with this node's microseconds drifting along forever
            return entry.schedule.next_run(now.replace(microsecond=0), None)
        return entry.schedule.next_run(entry.last + timedelta(seconds=1), entry.last)

    # ------------------------------------------------------------------ firing

    def fire(self, entries: list[Entry], now: datetime) -> None:
        """Decide (misfire policy), claim all the slots at once, then queue the runs."""
        from orchestrator.schedule import misfire

        plans = []
        for entry in entries:
            assert entry.due is not None
            decision = misfire.decide(entry.schedule, due=entry.due, now=now, last=entry.last,
                                      policy=entry.policy, grace=entry.grace,
                                      cause="while no node could run the job")
            slot = decision.slot if decision.run else entry.due
            assert slot is not None
            run_at = slot if now - slot <= ON_TIME else now
            plans.append((entry, decision, slot, run_at))
        epochs = self.ledger.claim([(e, slot, run_at, not d.run) for e, d, slot, run_at in plans])
        for (entry, decision, slot, run_at), epoch in zip(plans, epochs, strict=True):
            if epoch is None:
                continue
            entry.last = run_at
            if decision.missed_count or not decision.run:
                self.record_missed(entry, decision, now)
            if decision.run:
                if decision.missed_count:
                    log.warning(f"{entry.svc} {entry.key}: {decision.reason}", svc=entry.svc,
                                rid=entry.job.rid)
                self.launches.append((entry, slot, epoch))

    def record_missed(self, entry: Entry, decision: Any, now: datetime) -> None:
        store = self.agent.run_store(entry.svc)
        rt = self.agent.runtimes.get(entry.svc)
        if store is None or rt is None:
            return
        slots = list(decision.missed) or ([] if decision.run else [entry.due])
        for slot in slots:
            store.save(RunRecord(new_run_id(), entry.svc, entry.key, self.agent.me, "scheduler",
                                 RunStatus.MISSED, scheduled_at=slot, ended_at=now,
                                 reason=decision.reason))

    def launch(self, entry: Entry, slot: datetime, epoch: int) -> None:
        self.pool.submit(self.execute, entry, slot, epoch)

    def execute(self, entry: Entry, slot: datetime, epoch: int) -> None:
        try:
            if entry.job.action != "run":
                from orchestrator.daemon.builtin_jobs import run_builtin

                run_builtin(self.agent, entry.svc, entry.job.action, entry.key, entry.job.rid,
                            slot)
                return
            self.run_task(entry, slot, epoch)
        except Exception as exc:  # noqa: BLE001 - a worker must never die silently
            log.exception(f"{entry.svc} {entry.key}: run failed to execute: {exc!r}",
                          svc=entry.svc)

    def run_task(self, entry: Entry, slot: datetime, epoch: int) -> None:
        from orchestrator.taskrun import TaskRun, execute, record_not_run, unmet_requirements

        rt = self.agent.runtimes.get(entry.svc)
        if rt is None or rt.service is None or entry.job.rid is None:
            return
        svc = rt.service
        rc = svc.resource(entry.job.rid)
        store = self.agent.run_store(entry.svc)
        tlog = log.bind(svc=entry.svc, rid=rc.rid)
        run = TaskRun(origin="scheduler", scheduled_at=slot, epoch=epoch or None, store=store)
        unmet = unmet_requirements(svc, rc)
        if unmet:
            reason = "requirements not met: " + "; ".join(unmet)
            record_not_run(svc, rc, run, RunStatus.SKIPPED, reason)
            tlog.info(f"skipped: {reason}")
            return
        run_id_box: dict[str, Any] = {}
        keeper = self.agent.keeper

        def on_begin(begun: RunRecord) -> str | None:
            run_id_box["run_id"] = begun.run_id
            if keeper is not None and not keeper.task(begun.run_id, entry.svc, begun.to_dict()):
                return ("the node's fence keeper does not answer: it could not stop this run "
                        "if the agent died")
            return None

        def on_start(handle: Any) -> None:
            run_id_box.setdefault("handles", []).append(handle)  # each hook's, the command's
            entry.running[id(handle)] = handle
            if keeper is not None:
                keeper.task_pid(run_id_box["run_id"], handle.pid, handle.run_token)
            if not self.may_run(entry):  # the service began stopping while this one started
                handle.terminate("the service is stopping on this node", grace=2.0)

        run.on_begin, run.on_start = on_begin, on_start
        try:
            record = execute(svc, rc, run, log=lambda level, msg: getattr(tlog, level)(msg))
        finally:
            if keeper is not None and "run_id" in run_id_box:
                keeper.task_done(run_id_box["run_id"])
        for handle in run_id_box.get("handles", []):
            entry.running.pop(id(handle), None)
        tlog.info(f"scheduled run {record.run_id} for {slot_key(slot)}: {record.status}"
                  + (f" ({record.reason})" if record.reason else ""))

    # ------------------------------------------------------------------ relocation

    def interrupt(self, svc: str, reason: str, wait: float = 10.0) -> int:
        """Terminate the service's running scheduled tasks (relocation, fence); wait for them."""
        with self.lock:
            handles = [h for (name, _), e in self.entries.items() if name == svc
                       for h in list(e.running.values())]
        for handle in handles:
            handle.terminate(reason, grace=2.0)
        deadline = time.monotonic() + wait
        for handle in handles:
            try:
                handle.wait(max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                log.error(f"{svc}: a task (pid {handle.pid}) survived termination", svc=svc)
        if handles:
            log.warning(f"{svc}: interrupted {len(handles)} running task(s): {reason}", svc=svc)
        return len(handles)

    def interrupt_all(self, reason: str) -> None:
        for svc in {name for name, _ in list(self.entries)}:
            self.interrupt(svc, reason)

    def table(self) -> list[Entry]:
        with self.lock:
            return list(self.entries.values())
