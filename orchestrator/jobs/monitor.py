"""The ``resource_monitor`` job kind (DEFAULT.monitor_schedule, ``@1m``): restart the
resources that failed, then, when a monitored one cannot be restarted, run the service's
``monitor_action`` (jobs.monitor_actions).

A service has this job when one of its resources is monitored or has ``restart > 0`` (om3
adds it to the schedule table when a resource is monitored). It runs on the active instance
(the lease holder, started); when one of those resources is a standby one, on every node
(standby resources run everywhere). What to do is decided by ``jobs.monitor_plan`` (pure);
this module evaluates the statuses, waits the restart delays, restarts, records and logs.

It never fights a stop, a switch or a fence: it does nothing unless the instance is started
(or, for a standby resource, not starting, stopping or fenced), its loop is beating, the
cluster is reachable, and no stop, switch or failure mark is pending in the target. A
restart attempt is registered with the scheduler like a task's command, and the state is
checked again after that: a stop that begins meanwhile waits for the attempt to end (the
stop then stops what it started) and no further attempt starts.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orchestrator.jobs import monitor_actions
from orchestrator.jobs.model import Firing, Job, JobKind
from orchestrator.jobs.monitor_actions import record
from orchestrator.jobs.monitor_plan import FINE, Marks, Watched, apply_resets, plan
from orchestrator.jobs.service_kinds import service_job
from orchestrator.log import get_logger

if TYPE_CHECKING:
    from orchestrator.jobs.hosts import MonitorHost
    from orchestrator.service import Service

log = get_logger()
ACTION = "resource_monitor"
MAX_PASSES = 50  # restart attempts and re-evaluations in one run, at most
BUSY_STATES = ("starting", "stopping", "start failed", "fenced")


def watched_resources(svc: Service) -> list[Any]:
    """The resources the monitor restarts or acts on."""
    return [rc for rc in svc.resources()
            if not rc["disable"] and (rc.get("monitor") or (rc.get("restart") or 0) > 0)]


def monitor_jobs(svc: Service) -> list[Job]:
    watched = watched_resources(svc)
    if not watched:
        return []
    standby = any(rc.get("standby") for rc in watched)
    return [service_job(svc, ACTION, None, "DEFAULT.monitor_schedule",
                        svc.config.defaults["monitor_schedule"], node_scoped=standby,
                        instance=not standby)]


def evaluate(svc: Service) -> list[Watched]:
    """The monitored resources, and the other lifecycle ones (their failure is reported)."""
    from orchestrator.resources import registry
    from orchestrator.resources.instance import resource_status

    out = []
    for rc in svc.resources():
        if rc["disable"]:
            continue
        lifecycle = registry.spec(rc.driver).lifecycle
        monitored, restart = bool(rc.get("monitor")), int(rc.get("restart") or 0)
        if not (lifecycle or monitored or restart):
            continue
        st = resource_status(svc, rc.rid)
        out.append(Watched(rc.rid, str(st.status), monitored, restart,
                           float(rc.get("restart_delay") or 0.0), bool(rc.get("standby")),
                           lifecycle, st.reason))
    return out


def marks_of(rt: Any) -> Marks:
    """The runtime's marks, created on first use; a ``clear`` since the last run resets them."""
    if not isinstance(rt.monitor, Marks):
        rt.monitor = Marks(cleared=clear_token(rt))
    reset_if_cleared(rt)
    return rt.monitor


def clear_token(rt: Any) -> Any:
    """How many times ``svcmgr clear`` ran: target.cleared in a cluster, the instance's
    local state standalone (no target)."""
    if rt.target is not None:
        return rt.target.get("cleared")
    return rt.service.state.read().get("monitor", {}).get("cleared")


def reset_if_cleared(rt: Any) -> None:
    """``svcmgr clear`` bumps the token: forget the restart counts and the action taken
    (also on a node the monitor no longer runs on: its instance status shows them)."""
    marks = rt.monitor
    if not isinstance(marks, Marks) or rt.service is None:
        return
    token = clear_token(rt)
    if token != marks.cleared:
        log.info(f"{rt.name}: cleared: restart counts and monitor action reset", svc=rt.name)
        marks.clear(token)


def quiet_reason(host: MonitorHost, rt: Any, firing: Firing) -> str | None:
    """Why the monitor must not act now (None: it may): a stop, switch or fence in progress,
    the loop or the cluster gone, frozen."""
    if not firing.allowed():
        return "the scheduler no longer runs it here"
    if str(rt.state) in BUSY_STATES:
        return f"the instance is {rt.state} (a start, stop or fence in progress)"
    if host.clustered:
        if not host.coord_connected():
            return "the cluster store cannot be reached"
        fence = getattr(host, "fence", None)
        if fence is not None and getattr(fence, "fenced", False):
            return "this node fenced itself"
        beat = getattr(host, "heartbeat", None)
        if beat is not None and hasattr(beat, "alive") and not beat.alive():
            return "the decision loop is not beating"
    target = rt.target or {}
    if target.get("frozen"):
        return "frozen: no restart and no monitor action (thaw to resume)"
    if target.get("state") == "stopped":  # standby resources are not restarted either
        return "a stop was requested"
    wanted = target.get("node")
    if rt.started and wanted not in (None, host.me) and wanted in getattr(host, "alive", ()):
        return f"a switch to {wanted} was requested"
    if host.me in (target.get("failed") or {}):
        return "this node is marked failed for the service (it is leaving)"
    return None


class Attempt:
    """A restart attempt, registered like a task's command: a stop that begins meanwhile
    waits for it to end, and no further attempt starts (``terminate``)."""

    def __init__(self) -> None:
        self.pid = 0
        self.done = threading.Event()
        self.terminated: str | None = None

    def terminate(self, reason: str, grace: float = 0.0) -> None:
        self.terminated = reason

    def wait(self, timeout: float | None = None) -> None:
        if not self.done.wait(timeout):
            raise TimeoutError("restart attempt still running")


def restart(host: MonitorHost, rt: Any, firing: Firing, marks: Marks, rid: str,
            attempt: int, of: int) -> bool:
    """One restart attempt of ``rid`` (a start of its driver); False when not made."""
    from orchestrator.resources import registry
    from orchestrator.resources.instance import resource_status

    svc = rt.service
    handle = Attempt()
    firing.running[id(handle)] = handle
    try:
        why = quiet_reason(host, rt, firing)  # again, now that a stop would wait for us
        if why is not None:
            log.info(f"{rt.name}: not restarting {rid}: {why}", svc=rt.name, rid=rid)
            return False
        started = datetime.now(UTC)
        mark = marks.mark(rid)
        mark.attempts, mark.last_at = attempt, time.monotonic()
        marks.totals[rid] = marks.totals.get(rid, 0) + 1
        rc = svc.resource(rid)
        log.warning(f"{rt.name}: restarting {rid} (attempt {attempt} of {of})", svc=rt.name,
                    rid=rid)
        error = registry.implementation(rc.driver).start(svc, rc)
        if error is None:
            st = resource_status(svc, rid)
            if str(st.status) not in FINE:
                error = f"still {st.status} after its start" + (
                    f" ({st.reason})" if st.reason else "")
        text = f"{rid} restart attempt {attempt} of {of}: " + (error or "restarted, up")
        (log.info if error is None else log.error)(f"{rt.name}: {text}", svc=rt.name, rid=rid)
        record(host, firing, started, error is None, text, resource=rid, attempt=attempt)
        return True
    finally:
        handle.done.set()
        firing.running.pop(id(handle), None)


def _wait_until(when: float, host: MonitorHost, rt: Any, firing: Firing) -> bool:
    """Sleep until ``when`` (monotonic); False when the monitor must stop acting meanwhile."""
    while True:
        if quiet_reason(host, rt, firing) is not None or host.stop_event.is_set():
            return False
        left = when - time.monotonic()
        if left <= 0:
            return True
        host.stop_event.wait(min(left, 0.1))


_RUNNING: set[str] = set()  # services whose monitor run is in progress on this node
_RUNNING_LOCK = threading.Lock()


def run_monitor(host: MonitorHost, firing: Firing) -> None:
    """One run; a run still waiting out a restart_delay when the next slot fires makes that
    one a no-op (two runs would restart the same resource twice)."""
    with _RUNNING_LOCK:
        if firing.svc in _RUNNING:
            log.debug(f"{firing.svc}: resource monitor still running, slot skipped",
                      svc=firing.svc)
            return
        _RUNNING.add(firing.svc)
    try:
        _run(host, firing)
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(firing.svc)


def _run(host: MonitorHost, firing: Firing) -> None:
    rt = host.runtimes.get(firing.svc)
    if rt is None or rt.service is None:
        return
    marks = marks_of(rt)
    changed = False
    for _ in range(MAX_PASSES):
        quiet = quiet_reason(host, rt, firing)
        if quiet is not None and not marks.resources:
            break  # nothing to act on, nothing to reset: no check commands to run
        p = plan(evaluate(rt.service), marks, started=rt.started, now=time.monotonic(),
                 quiet=quiet)
        if p.resets:
            apply_resets(marks, p)
            changed = True
            for rid in p.resets:
                log.info(f"{rt.name}: {rid} is up again: its restart count is reset",
                         svc=rt.name, rid=rid)
        for rid, sentence in p.reports:
            marks.mark(rid).reported = changed = True
            log.warning(f"{rt.name}: {sentence}", svc=rt.name, rid=rid)
            record(host, firing, datetime.now(UTC), False, sentence, resource=rid)
        if p.action_rid is not None:
            monitor_actions.take(host, rt, firing, marks, p.action_rid, p.action_reason or "")
            changed = True
            break
        if not p.restarts:
            break
        made = False
        for r in sorted(p.restarts, key=lambda r: r.not_before):
            if not _wait_until(r.not_before, host, rt, firing):
                break
            made = restart(host, rt, firing, marks, r.rid, r.attempt, r.of) or made
        changed = changed or made
        if not made:
            break
    if changed:
        host.publish_status(firing.svc)


KIND = JobKind(ACTION, "service", monitor_jobs, run_monitor)
