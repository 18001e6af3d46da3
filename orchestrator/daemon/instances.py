"""This node's instances of its services: starting, stopping, fencing, and their status.

Every start, stop and fence goes through here, as one transition of the instance state
machine (daemon.runtime). The fence keeper is told before a start (it must be able to stop
what starts) and after a stop. This is also the one owner of instance status: evaluated
once, then published to the cluster (ephemeral, for ``print status`` on any node) and handed
to the status job that pushes it.
"""

from __future__ import annotations

import contextlib
import os
import time
from datetime import UTC, datetime
from typing import Any, Protocol

from orchestrator.daemon.decisions import lease_name
from orchestrator.daemon.placement import Act, Decision, ServiceView
from orchestrator.daemon.runtime import InstanceState, Runtime
from orchestrator.log import get_logger

log = get_logger()
S = InstanceState

STATUS_EVERY = 10.0
# an unchanged instance status is re-written this often (it is ephemeral: it goes with the
# session anyway; at 1,000 services every 60 s this was a third of an idle node's CPU)
PUBLISH_UNCHANGED_EVERY = 300.0
# a resource start or stop counts as the loop being alive for at most this long
ACTION_BUSY = 600.0


class InstanceHost(Protocol):
    me: str
    clustered: bool
    coord: Any
    keeper: Any
    heartbeat: Any
    scheduler: Any
    fence: Any
    leases: dict[str, Any]
    runtimes: dict[str, Runtime]
    dirty: set[str]


class Instances:
    def __init__(self, host: InstanceHost):
        self.host = host

    # ------------------------------------------------------------------ decisions

    def say(self, rt: Runtime, decision: Decision) -> None:
        if decision.sentence != rt.last_sentence:
            log.info(decision.sentence, svc=rt.name, act=str(decision.act))
            rt.last_sentence = decision.sentence

    def carry_out(self, rt: Runtime, view: ServiceView, decision: Decision) -> None:
        from orchestrator.coordination import LeaseHeld

        host = self.host
        self.say(rt, decision)
        if decision.act is Act.NOTHING:
            return
        host.dirty.add(rt.name)  # what we do below changes the documents: read them again
        if decision.act is Act.STOP:  # only when another node holds the lease, or nobody
            host.leases.pop(rt.name, None)
            self.stop(rt, decision.sentence)
            return
        if decision.act is Act.STOP_AND_RELEASE:
            self.stop(rt, decision.sentence)
            self.release(rt)
            return
        if decision.act is Act.ACQUIRE_AND_START:
            try:
                lease = host.coord.acquire_lease(lease_name(rt, decision))
            except LeaseHeld as exc:
                log.info(f"{rt.name}: not taking it, {exc}", svc=rt.name)
                return
            log.info(f"{rt.name}: lease {lease.svc} acquired (epoch {lease.epoch})",
                     svc=rt.name)
            host.leases[rt.name] = lease
            host.scheduler.forget_last(rt.name)
            if view.target.node not in (None, host.me):
                # placed here by failover: an old switch request must not pull it back later
                host.coord.update_target(rt.name, lambda t: {**t, "node": None})
        self.start(rt)

    # ------------------------------------------------------------------ start, stop

    def start(self, rt: Runtime) -> None:
        """Start the resources (this node holds the lease); a failure marks this node failed
        for the service and gives the lease up, so the next candidate takes it."""
        from orchestrator.actions import lifecycle

        host = self.host
        assert rt.service is not None
        refused = host.keeper.guard(rt.name, rt.text or "") if host.keeper else None
        rt.move(S.STARTING, "this node holds the lease")
        code = 1
        if refused is None:
            with host.heartbeat.busy(ACTION_BUSY):
                code = lifecycle.start(rt.service)
        if code == 0:
            rt.move(S.STARTED, "resources started")
            host.scheduler.wake.set()  # tasks due now run now, not at the next tick
            log.info(f"{rt.name}: started here", svc=rt.name)
            self.publish(rt, force=True)
            return
        reason = ("start failed on this node (see the service log)" if refused is None
                  else f"not started: {refused}")
        rt.move(S.START_FAILED, reason)
        log.error(f"{rt.name}: {reason}; releasing the lease so the next candidate can take it",
                  svc=rt.name)
        if refused is None:
            self.stop_and_unguard(rt)
        rt.move(S.STOPPED, reason)
        host.coord.update_target(
            rt.name, lambda t: {**t, "failed": {**(t.get("failed") or {}), host.me: reason}})
        self.release(rt)
        self.publish(rt, force=True)

    def release(self, rt: Runtime) -> None:
        """Give up the lease this session holds for ``rt``: the service's own, or the flex
        instance slot it took (none known: the service's own, as a failover service)."""
        lease = self.host.leases.pop(rt.name, None)
        self.host.coord.release_lease(lease.svc if lease is not None else rt.name)

    def stop(self, rt: Runtime, sentence: str) -> None:
        """Stop the service's tasks, then its resources."""
        if rt.service is None:
            return
        rt.move(S.STOPPING, sentence)  # first: the scheduler starts nothing more for it
        self.host.scheduler.interrupt(rt.name, sentence)  # tasks stop before the resources
        rt.stop_failed = self.stop_and_unguard(rt) != 0
        if rt.stop_failed:
            log.error(f"{rt.name}: stop failed here", svc=rt.name)
        rt.move(S.STOPPED, sentence)
        with contextlib.suppress(Exception):
            self.publish(rt, force=True)

    def stop_and_unguard(self, rt: Runtime) -> int:
        """Stop the resources; once stopped the keeper need not guard them any more (after a
        failed stop it still does: it tries again if this agent dies)."""
        from orchestrator.actions import lifecycle

        assert rt.service is not None
        with self.host.heartbeat.busy(ACTION_BUSY):
            code = lifecycle.stop(rt.service)
        if code == 0 and self.host.keeper is not None:
            self.host.keeper.unguard(rt.name)
        return code

    # ------------------------------------------------------------------ fencing

    def fence_now(self) -> None:
        """ZooKeeper has not answered for the fence delay: the keeper stops everything this
        node runs before our session can expire elsewhere (here, without a keeper)."""
        host = self.host
        host.fence.fenced_now()
        held = [rt for rt in host.runtimes.values() if rt.started]
        log.warning(f"node {host.me}: no answer from ZooKeeper for {host.fence.delay:g}s; "
                    f"fencing: stopping {', '.join(rt.name for rt in held) or 'nothing'} "
                    "before the session can expire")
        reason = "fenced: ZooKeeper connection suspended"
        report = host.keeper.fence(reason) if host.keeper is not None else None
        if report is not None:  # the keeper stopped the tasks and resources it guards
            for rt in held:
                if rt.name in (report.get("services") or {}):
                    rt.move(S.FENCED, reason)
        host.scheduler.interrupt_all(reason)
        for rt in held:
            if rt.started:  # not guarded (no keeper): stopped here
                self.stop(rt, f"{rt.name}: fenced")
            else:
                with contextlib.suppress(Exception):
                    self.publish(rt, force=True)

    def fenced_by_keeper(self, reports: list[dict[str, Any]]) -> None:
        """The keeper fenced what an agent (this one, hung or stopped, or a dead one before
        it) started here: none of it runs any more; placement decides what comes back."""
        host = self.host
        for report in reports:
            host.fence.fences += 1  # counted where it is heard of (the metrics)
            services = sorted(report.get("services") or {})
            log.warning(f"node {host.me}: the fence keeper fenced agent "
                        f"{report.get('agent_pid')} at {report.get('at')} ({report.get('why')}): "
                        f"stopped {', '.join(services) or 'no service'}, interrupted "
                        f"{len(report.get('tasks') or [])} task(s)")
            if host.keeper is not None:
                host.keeper.forget_fenced(report)
            if report.get("agent_pid") != os.getpid():
                continue  # an earlier agent's: this one's instances are read from the node
            for name in services:
                rt = host.runtimes.get(name)
                if rt is not None:
                    rt.move(S.FENCED, f"fenced by the keeper: {report.get('why')}")

    # ------------------------------------------------------------------ status

    def publish(self, rt: Runtime, force: bool = False) -> Any:
        """Evaluate this instance's status (at most every STATUS_EVERY unless forced) and
        publish it: to the cluster when clustered (written when it changed, or at least
        every PUBLISH_UNCHANGED_EVERY), else to the instance's local state. The status
        evaluated, or None when nothing was evaluated."""
        now = time.monotonic()
        if rt.service is None or (not force and now - rt.published_at < STATUS_EVERY):
            return None
        from orchestrator.resources.instance import instance_status

        inst = instance_status(rt.service)
        rt.published_at = now
        monitor = monitor_doc(rt, inst)  # first: it adds the restart counts to resources
        if not self.host.clustered:  # print status reads the counts from there
            rt.service.state.update("status", "instance", {
                "avail": str(inst.avail), "overall": str(inst.overall),
                "updated_at": datetime.now(UTC).isoformat(), **monitor,
                "restarts": {rid: {k: r.extra[k] for k in ("restarts", "restarts_total")}
                             for rid, r in inst.resources.items() if "restarts" in r.extra}})
            return inst
        doc = {"node": self.host.me, "avail": str(inst.avail), "overall": str(inst.overall),
               "started": rt.started,
               "resources": {rid: r.to_dict() for rid, r in inst.resources.items()},
               **monitor}
        # 1,000 services re-writing the same status every 10 s were most of an idle CPU
        if (force or doc != rt.published_doc
                or now - rt.written_at >= PUBLISH_UNCHANGED_EVERY):
            self.host.coord.publish_instance(rt.name, {
                **doc, "updated_at": datetime.now(UTC).isoformat()})
            rt.published_doc, rt.written_at = doc, now
        return inst

    def publish_status(self, svc: str) -> Any:
        """The status job: evaluate and publish now; the status (None: unknown service)."""
        rt = self.host.runtimes.get(svc)
        if rt is None or rt.service is None:
            return None
        return self.publish(rt, force=True)


def monitor_doc(rt: Runtime, inst: Any) -> dict[str, Any]:
    """The resource monitor's marks for the instance document: each watched resource's
    consecutive restart attempts (``restarts``, next to its ``restart`` config; reset when it
    is seen up, as om3), all of them (``restarts_total``, until ``clear``), the action taken."""
    from orchestrator.jobs.monitor import reset_if_cleared

    reset_if_cleared(rt)
    marks = rt.monitor
    for rid, res in inst.resources.items():
        if "restart" in res.extra:
            mark = marks.resources.get(rid) if marks is not None else None
            res.extra["restarts"] = mark.attempts if mark is not None else 0
            res.extra["restarts_total"] = marks.totals.get(rid, 0) if marks is not None else 0
    if marks is None or marks.action is None:
        return {}
    return {"monitor": {"action": marks.action, "reason": marks.action_reason}}


def locally_started(svc: Any) -> bool:
    """Are the service's resources up on this node right now (whoever started them)?"""
    from orchestrator.resources.instance import instance_status

    return str(instance_status(svc).avail) in ("up", "warn")
