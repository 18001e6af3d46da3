"""The daemon's scheduler: runs each service's jobs, and the node's own, when due, where
they may run, once.

For each job it keeps the next due slot, computed by the pure schedule math from the last
run. In a cluster the last run is the newest *claim* in ZooKeeper, and a slot is claimed
(under the active-instance lease, fencing epoch checked in the same transaction) before the
process starts: a node that is not the lease holder, or whose session is suspended, cannot
claim, so no slot runs twice. A job that ``run_requires`` lets run on several nodes keeps its
claims per node. Missed slots (nothing could run the job) follow the job's misfire policy
and are recorded with their reason. The node's own jobs (jobs.node_kinds) are entries of the
node's pseudo-service (``NODE``) with the same due rule, kept by a ledger of their own (no
lease, no claim, even in a cluster). Whether a job may run here is ``jobs.runnable``, the
rule ``print schedule`` shows; what a job does is its kind's runner (jobs.registry).

Runs use the same execution path as ``svcmgr run --cron`` (taskrun), in pooled threads
(daemon.workers).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from orchestrator.daemon.entries import Entry
from orchestrator.daemon.ledger import ClusterLedger, Ledger, LocalLedger, NodeLedger, slot_key
from orchestrator.daemon.workers import WorkerPool
from orchestrator.jobs.model import NODE, Firing, Job, job_schedule
from orchestrator.jobs.registry import kind_of, node_jobs, service_jobs
from orchestrator.jobs.where import NODE_VIEW, RunView, runnable
from orchestrator.log import get_logger
from orchestrator.runs import RunRecord, RunStatus, new_run_id

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.daemon.host import SchedulerHost, ServiceRuntime

__all__ = ["Entry", "Scheduler", "slot_key"]

log = get_logger()
ON_TIME = timedelta(seconds=5)
# a never-run job's first slot is written to the cluster this long before it comes due (a
# failover after that catches it up); not at load: 10,000 writes would stall the first tick
SHARE_AHEAD = timedelta(seconds=60)
# with nothing due, the scheduler looks again this late: whatever changes what may run
# (a start, a lease, a reconnection, a job loaded) wakes it at once; a pass over 10,000
# jobs every second was most of an idle node's CPU, every 5 s still a fifth of it. Below
# SHARE_AHEAD: a never-run job's first slot is still shared 45 s before it is due
IDLE_TICK = 15.0


class Scheduler:
    def __init__(self, agent: SchedulerHost):
        self.agent = agent
        self.ledger: Ledger = ClusterLedger(agent) if agent.clustered else LocalLedger(agent)
        self.node_ledger: Ledger | None = None  # the node's own jobs (load_node)
        self.entries: dict[tuple[str, str], Entry] = {}
        self.lock = threading.RLock()
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pool = WorkerPool("run")
        self.clock = time.monotonic
        self.launches: list[tuple[Entry, datetime, int, datetime]] = []  # fired in this tick

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
            for job in service_jobs(svc):
                if job.why_not is not None:
                    continue
                entry = self.entry(rt.name, job)
                prev = old.get((rt.name, job.key))
                if prev is not None and prev.job.schedule_definition == job.schedule_definition:
                    entry.last, entry.last_known, entry.running = (prev.last, prev.last_known,
                                                                   prev.running)
                self.entries[(rt.name, job.key)] = entry
        self.wake.set()

    def load_node(self, node: NodeConfig) -> None:
        """The node's own jobs (node.conf is read once: a change takes a daemon restart)."""
        me = node.nodename
        with self.lock:
            self.node_ledger = NodeLedger(node)
            for job in node_jobs(node):
                if job.why_not is not None:
                    log.info(f"node {me}: {job.action}: {job.why_not} (node.conf "
                             f"{job.config_parameter.removeprefix('node.')}), not running it")
                    continue
                self.entries[(NODE, job.key)] = self.entry(
                    NODE, job, label=f"node {me}: {job.action}",
                    cause="while the node agent was down or busy")
        self.wake.set()

    @staticmethod
    def entry(svc: str, job: Job, **extra: Any) -> Entry:
        grace = timedelta(seconds=job.misfire_grace) if job.misfire_grace is not None else None
        return Entry(svc, job, job_schedule(job), job.node_scoped, job.misfire, grace, **extra)

    def ledger_of(self, entry: Entry) -> Ledger:
        return self.node_ledger if entry.svc == NODE and self.node_ledger else self.ledger

    def unload(self, svc: str) -> None:
        """No job of ``svc`` runs here any more (this node left its nodes)."""
        with self.lock:
            for key in [k for k in self.entries if k[0] == svc]:
                del self.entries[key]

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
        if self.thread is not None:  # started already (the node's jobs run before joining)
            return
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
            self.wake.wait(max(0.001, min(wait, IDLE_TICK)))
            self.wake.clear()

    def tick(self, now: datetime) -> float:
        """Run what is due; return seconds from ``now`` until the next due slot.

        Due slots are all claimed first, then launched together: a launch made mid-loop
        would compete for the GIL with the claims of the slots after it.
        """
        with self.lock:
            entries = list(self.entries.values())
        self.ledger.settle(now)  # the node's ledger has nothing to settle
        earliest = now + timedelta(seconds=IDLE_TICK)
        share_by = now + SHARE_AHEAD  # compared, not subtracted: 10,000 entries a second
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
                if (entry.last is None and due <= share_by
                        and self.ledger_of(entry).first_due_unshared(entry)):
                    self.ledger_of(entry).share_first_due(entry)
                if due < earliest:
                    earliest = due
                continue
            ledger = self.ledger_of(entry)
            if not entry.last_known and not ledger.read_last(entry):
                continue
            if entry.due is None:
                entry.due = self.next_due(entry, now)
            if entry.due is None:
                if not entry.said_never:
                    entry.said_never = True
                    log.info(f"{entry.name}: no allowed time within the search horizon, "
                             "not running it", svc=entry.svc or None)
                continue
            if entry.due - now <= SHARE_AHEAD and ledger.first_due_unshared(entry):
                ledger.share_first_due(entry)
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
        for entry, slot, epoch, run_at in launches:
            self.launch(entry, slot, epoch, run_at)
        self.agent.flush_records()
        return (earliest - now).total_seconds()

    # ------------------------------------------------------------------ rules

    def may_run(self, entry: Entry) -> bool:
        return self.why_not(entry) is None

    def why_not(self, entry: Entry) -> str | None:
        """Run here only on the active instance, unless the job is node-scoped (runnable)."""
        if entry.svc == NODE:
            return runnable(NODE_VIEW, entry.job)
        agent = self.agent
        rt = agent.runtimes.get(entry.svc)
        loaded = rt is not None and rt.service is not None
        holder = None
        if loaded and agent.clustered and (not entry.job.node_scoped or entry.job.instance) \
                and rt.started and agent.lease_of(entry.svc) is not None:
            holder = agent.me
        return runnable(RunView(loaded=loaded, connected=self.ledger.usable(),
                                clustered=agent.clustered, holder=holder, here=agent.me),
                        entry.job)

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
                                      policy=entry.policy, grace=entry.grace, cause=entry.cause)
            slot = decision.slot if decision.run else entry.due
            assert slot is not None
            run_at = slot if now - slot <= ON_TIME else now
            plans.append((entry, decision, slot, run_at))
        epochs: dict[int, int | None] = {}
        for ledger in {id(self.ledger_of(e)): self.ledger_of(e) for e, *_ in plans}.values():
            mine = [i for i, (e, *_) in enumerate(plans) if self.ledger_of(e) is ledger]
            got = ledger.claim([(plans[i][0], plans[i][2], plans[i][3], not plans[i][1].run)
                                for i in mine])
            epochs.update(zip(mine, got, strict=True))
        for i, (entry, decision, slot, run_at) in enumerate(plans):
            epoch = epochs[i]
            if epoch is None:
                continue
            entry.last = run_at
            if decision.missed_count or not decision.run:
                self.record_missed(entry, decision, now)
                log.warning(f"{entry.name}: {decision.reason}", svc=entry.svc or None,
                            rid=entry.job.rid, status="missed")
            if decision.run:
                self.launches.append((entry, slot, epoch, run_at))

    def record_missed(self, entry: Entry, decision: Any, now: datetime) -> None:
        store = self.ledger_of(entry).store(entry)
        if store is None:
            return
        slots = list(decision.missed) or ([] if decision.run else [entry.due])
        for slot in slots:
            store.save(RunRecord(new_run_id(), entry.svc, entry.key, self.agent.me, "scheduler",
                                 RunStatus.MISSED, scheduled_at=slot, ended_at=now,
                                 reason=decision.reason))

    def launch(self, entry: Entry, slot: datetime, epoch: int,
               run_at: datetime | None = None) -> None:
        self.pool.submit(self.execute, entry, slot, epoch, run_at)

    def execute(self, entry: Entry, slot: datetime, epoch: int,
                run_at: datetime | None = None) -> None:
        """Run the job's kind's runner for this slot (in a pooled thread)."""
        firing = Firing(entry.svc, entry.job, slot, run_at or slot, epoch,
                        store=self.ledger_of(entry).store(entry), running=entry.running,
                        allowed=lambda: self.may_run(entry))
        try:
            kind_of(entry.svc, entry.job).run(self.agent, firing)
        except Exception as exc:  # noqa: BLE001 - a worker must never die silently
            log.exception(f"{entry.name}: run failed to execute: {exc!r}",
                          svc=entry.svc or None)

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

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until no run is being finished (its record saved); False if some still are
        after ``timeout`` (the agent's shutdown waits so the records reach the cluster)."""
        deadline = time.monotonic() + timeout
        while self.pool.busy() and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.pool.busy()
