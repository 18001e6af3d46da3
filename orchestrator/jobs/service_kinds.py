"""The built-in job kinds every service has: ``compliance_auto``, ``push_config``,
``push_resinfo``, ``status`` (one job each, scheduled by a DEFAULT keyword) and ``sync_all``
(one job per sync resource).

``status`` publishes the instance status (and pushes it); ``push_config`` and
``push_resinfo`` push to the collector; ``compliance_auto`` runs the compliance modules
(``fix`` when ``comp_autofix``) and pushes the results; ``sync_all`` copies a sync resource
to the peers with rsync. sync and compliance runs leave run records like tasks (in the store
the scheduler gives, which pushes them to the collector).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orchestrator.jobs.model import Firing, Job, JobKind, builtin_record
from orchestrator.log import get_logger
from orchestrator.runs import RunStatus

if TYPE_CHECKING:
    from orchestrator.jobs.hosts import ServiceJobHost
    from orchestrator.service import Service

log = get_logger()
NO_COLLECTOR = "no collector configured ([collector] url in node.conf)"


def service_job(svc: Service, action: str, rid: str | None, param: str,
                definition: str | None, why_not: str | None = None,
                node_scoped: bool = False, instance: bool = False) -> Job:
    """A job of ``svc``: its time zone, splay and misfire policy (the resource's, else the
    DEFAULT ones); "unscheduled" when its definition never fires. ``instance``: run by each
    started instance of a flex service (ignored for a failover service)."""
    from orchestrator.schedule import is_unscheduled

    defaults = svc.config.defaults
    rc = svc.resource(rid) if rid else None
    policy = rc.get("misfire") if rc is not None and rc.get("misfire") else defaults["misfire"]
    grace = (rc.get("misfire_grace") if rc is not None and rc.get("misfire_grace") is not None
             else defaults["misfire_grace"])
    if why_not is None and (definition is None or is_unscheduled(definition)):
        why_not = "unscheduled"
    instance = instance and svc.config.flex
    return Job(action, rid, param, definition, why_not, node_scoped or instance,
               instance=instance, tz=defaults["tz"],
               splay_key=f"{svc.name}/{rid or action}/{svc.nodename}", misfire=policy,
               misfire_grace=grace)


def _builtin(action: str, keyword: str, *, node_scoped: bool = False,
             needs_collector: bool = False) -> Any:
    def jobs(svc: Service) -> list[Job]:
        why = NO_COLLECTOR if needs_collector and not svc.node.get("collector", "url") else None
        return [service_job(svc, action, None, f"DEFAULT.{keyword}",
                            svc.config.defaults[keyword], why, node_scoped)]

    return jobs


def sync_jobs(svc: Service) -> list[Job]:
    jobs = []
    for rc in svc.resources("sync"):
        if rc["schedule"] is not None:
            param, definition = f"{rc.rid}.schedule", rc["schedule"]
        else:
            param, definition = "DEFAULT.sync_schedule", svc.config.defaults["sync_schedule"]
        jobs.append(service_job(svc, "sync_all", rc.rid, param, definition,
                                "disabled" if rc["disable"] else None))
    return jobs


# ---------------------------------------------------------------------- runners


def run_status(host: ServiceJobHost, firing: Firing) -> None:
    from orchestrator.builtins import push

    rt = host.runtimes.get(firing.svc)
    if rt is None or rt.service is None:
        return
    inst = host.publish_status(firing.svc)
    client = host.collector()
    if client is not None:
        push.push_status(client, rt.service, frozen=push.target_frozen(rt.target), inst=inst)


def run_push_config(host: ServiceJobHost, firing: Firing) -> None:
    from orchestrator.builtins import push

    rt = host.runtimes.get(firing.svc)
    client = host.collector()
    if rt is not None and rt.service is not None and client is not None:
        push.push_config(client, rt.service)


def run_push_resinfo(host: ServiceJobHost, firing: Firing) -> None:
    from orchestrator.builtins import push

    rt = host.runtimes.get(firing.svc)
    client = host.collector()
    if rt is not None and rt.service is not None and client is not None:
        push.push_resinfo(client, rt.service)


def run_compliance(host: ServiceJobHost, firing: Firing) -> None:
    from orchestrator.builtins import push
    from orchestrator.builtins.compliance import run_modules

    rt = host.runtimes.get(firing.svc)
    if rt is None or rt.service is None:
        return
    svc, started = rt.service, datetime.now(UTC)
    results = run_modules(svc, "fix" if svc.config.defaults["comp_autofix"] else "check")
    bad = [r.module for r in results if r.status in ("nok", "error")]
    client = host.collector()
    if client is not None and results:
        push.push_compliance(client, results)
    _record(host, firing, started, f"not compliant: {', '.join(bad)}" if bad else None)


def run_sync(host: ServiceJobHost, firing: Firing) -> None:
    from orchestrator.builtins.sync import sync_resource

    rt = host.runtimes.get(firing.svc)
    rid = firing.job.rid
    if rt is None or rt.service is None or rid is None:
        return
    svc, started = rt.service, datetime.now(UTC)
    addresses = (host.peer_addresses() if host.clustered
                 else {n: n for n in svc.config.nodes})  # standalone: names resolve
    result = sync_resource(svc, svc.resource(rid), addresses)
    log.info(f"{firing.svc} {rid}: synchronized to {', '.join(result.copied) or 'no peer'}"
             + (f"; {result.reason}" if result.reason else ""), svc=firing.svc)
    _record(host, firing, started, None if result.ok else (result.reason or "failed"))


def _record(host: ServiceJobHost, firing: Firing, started: datetime,
            failure: str | None) -> None:
    status = RunStatus.OK if failure is None else RunStatus.FAILED
    if firing.store is not None:  # and pushed to the collector (the agent's run store)
        firing.store.save(builtin_record(firing, host.me, status, started, failure,
                                         0 if failure is None else 1))


# in OpenSVC's order (print schedule lists them so)
KINDS = (
    JobKind("compliance_auto", "service", _builtin("compliance_auto", "comp_schedule"),
            run_compliance),
    JobKind("push_config", "service",
            _builtin("push_config", "config_schedule", needs_collector=True), run_push_config),
    JobKind("push_resinfo", "service",
            _builtin("push_resinfo", "resinfo_schedule", needs_collector=True),
            run_push_resinfo),
    JobKind("status", "service", _builtin("status", "status_schedule", node_scoped=True),
            run_status),
    JobKind("sync_all", "service", sync_jobs, run_sync),
)
