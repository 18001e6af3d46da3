"""The monitor actions (DEFAULT.monitor_action), run when a monitored resource is down and
its restarts are spent. OpenSVC's names and meaning:

* ``none``: report only (a run record and a log line);
* ``switch``: mark this node failed for the service with the reason (target.failed, the
  path a failed start takes) and let the decision loop stop it and give the lease up: the
  next candidate takes the service, and its tasks follow;
* ``freezestop``: freeze the service (no automatic placement) and stop it (target.state);
* ``reboot``, ``crash``: reboot or crash this node through sysrq, at once, without stopping
  anything (om3: the node must stop writing to shared disks before a peer takes over).
  Refused, and recorded so, unless ``[node] allow_monitor_reboot = true``.

A second word is the fallback (``freezestop reboot``): run when the first action's stop
fails. ``pre_monitor_action`` runs before the action (``none`` included, as om3's
``doMonitorAction``), with ``OPENSVC_SVCNAME`` and ``OPENSVC_RID`` set; its failure is
logged only. These
need the cluster (switch, freezestop): standalone they are refused with the reason.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orchestrator.jobs.model import builtin_record
from orchestrator.jobs.monitor_plan import next_action
from orchestrator.log import get_logger
from orchestrator.runs import RunStatus

if TYPE_CHECKING:
    from orchestrator.jobs.hosts import MonitorHost
    from orchestrator.jobs.model import Firing
    from orchestrator.jobs.monitor_plan import Marks

log = get_logger()
PRE_TIMEOUT = 60.0
STOP_WAIT = 600.0  # how long a fallback waits for the first action's stop
SYSRQ = {"reboot": "b", "crash": "c"}


def refused(host: MonitorHost, action: str) -> str | None:
    """Why ``action`` cannot be taken on this node (None: it can)."""
    if action in SYSRQ and not host.node.get("node", "allow_monitor_reboot"):
        return (f"monitor_action {action} refused: [node] allow_monitor_reboot is false "
                "in node.conf")
    if action in ("switch", "freezestop") and (not host.clustered or host.coord is None):
        return f"monitor_action {action} refused: it needs a cluster (standalone node)"
    return None


def pre_monitor_action(svc: str, command: str | None, rid: str) -> None:
    if not command:
        return
    log.info(f"{svc}: running pre_monitor_action: {command}", svc=svc)
    env = {**os.environ, "OPENSVC_SVCNAME": svc, "OPENSVC_RID": rid}
    try:
        done = subprocess.run(shlex.split(command), env=env, capture_output=True, text=True,
                              timeout=PRE_TIMEOUT, check=False)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        log.error(f"{svc}: pre_monitor_action failed: {exc}", svc=svc)
        return
    if done.returncode != 0:
        log.error(f"{svc}: pre_monitor_action exited with code {done.returncode}", svc=svc)


def sysrq(letter: str) -> None:  # pragma: no cover - never run in tests
    with open("/proc/sysrq-trigger", "w") as f:
        f.write(letter)


def act(host: MonitorHost, svc: str, action: str, reason: str,
        active: bool = True) -> tuple[bool, str]:
    """Carry ``action`` out; (done, sentence). ``active``: the instance is the started one
    (else a standby resource failed on a passive node: switch only marks the node failed,
    so it is no candidate, and freezestop, which would stop the active node, is not taken)."""
    why = refused(host, action)
    if why is not None:
        return False, why
    if action == "none":
        return False, "monitor_action none: reported only"
    if action == "freezestop" and not active:
        return False, ("monitor_action freezestop not taken: the instance is not active "
                       "here (it would stop the service on its active node)")
    if action == "switch":
        host.coord.update_target(svc, lambda t: {
            **t, "failed": {**(t.get("failed") or {}), host.me: reason}})
        host.wake.set()
        if not active:
            return True, (f"monitor_action switch: {host.me} marked failed (the instance is "
                          "not active here: nothing to stop)")
        return True, (f"monitor_action switch: {host.me} marked failed; stopping here so "
                      "that the next candidate takes it")
    if action == "freezestop":
        host.coord.update_target(svc, lambda t: {**t, "frozen": True, "state": "stopped",
                                                 "node": None})
        host.wake.set()
        return True, "monitor_action freezestop: frozen, stopping"
    log.critical(f"{svc}: monitor_action {action}: {reason}", svc=svc)  # pragma: no cover
    sysrq(SYSRQ[action])  # pragma: no cover
    return True, f"monitor_action {action}"  # pragma: no cover


def stop_failed(rt: Any, stop_event: Any) -> bool:
    """Wait for the stop a switch or freezestop asked for; True when it failed."""
    deadline = time.monotonic() + STOP_WAIT
    while time.monotonic() < deadline and not stop_event.is_set():
        if str(rt.state) == "stopped":
            return bool(getattr(rt, "stop_failed", False))
        stop_event.wait(0.1)
    return str(rt.state) != "stopped"


def record(host: MonitorHost, firing: Firing, started: datetime, ok: bool, reason: str,
           **extra: Any) -> None:
    if firing.store is not None:
        firing.store.save(builtin_record(firing, host.me, RunStatus.OK if ok else RunStatus.FAILED,
                                         started, reason, 0 if ok else 1, **extra))


def take(host: MonitorHost, rt: Any, firing: Firing, marks: Marks, rid: str,
         reason: str) -> None:
    """Run the first monitor action (and its fallback when its stop fails); record each."""
    defaults = rt.service.config.defaults
    actions = tuple(defaults["monitor_action"])
    marks.action, marks.action_reason = actions[0], reason
    stage = 0
    while (action := next_action(actions, stage)) is not None:
        started = datetime.now(UTC)
        pre_monitor_action(rt.name, defaults["pre_monitor_action"], rid)  # none too, as om3
        active = bool(rt.started)
        done, sentence = act(host, rt.name, action, reason, active=active)
        text = f"{reason}; {sentence}"
        (log.warning if done or action == "none" else log.error)(
            f"{rt.name}: {text}", svc=rt.name, rid=rid)
        record(host, firing, started, done, text, resource=rid, monitor_action=action)
        if not (done and active and action in ("switch", "freezestop")
                and len(actions) > stage + 1):
            return
        if not stop_failed(rt, host.stop_event):
            return
        stage += 1
        log.error(f"{rt.name}: the stop of monitor_action {action} failed: trying "
                  f"{next_action(actions, stage)}", svc=rt.name)
