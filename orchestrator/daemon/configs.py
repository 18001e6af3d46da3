"""Service configs on this node: the local copy follows the cluster's, a service this node
no longer runs loses its file, and a service deleted from the cluster while this agent was
away is stopped and forgotten."""

from __future__ import annotations

import contextlib
import os
from typing import Any, Protocol

from orchestrator.config.errors import ConfigError
from orchestrator.config.service import parse_service
from orchestrator.daemon.instances import Instances, locally_started
from orchestrator.daemon.runtime import Runtime
from orchestrator.log import get_logger
from orchestrator.service import Service

log = get_logger()


class ConfigHost(Protocol):
    me: str
    node: Any
    coord: Any
    keeper: Any
    scheduler: Any
    records: Any
    leases: dict[str, Any]
    runtimes: dict[str, Runtime]


class Configs:
    def __init__(self, host: ConfigHost, instances: Instances):
        self.host = host
        self.instances = instances

    def sync(self, rt: Runtime, text: str | None) -> None:
        """Keep the local copy of the service config equal to the cluster's ``text``."""
        host = self.host
        if text is None or text == rt.text:
            return
        rt.text = text
        path = host.node.paths.service_conf(rt.name)
        try:
            cfg = parse_service(text, str(path), rt.name, host.me, host.node.service_context())
        except ConfigError as exc:
            rt.error = str(exc.problems[0]) if exc.problems else str(exc)
            log.error(f"{rt.name}: config in the cluster is invalid here, ignoring it: "
                      f"{rt.error}", svc=rt.name)
            return
        rt.error = None
        if host.me not in cfg.nodes:
            if path.exists():
                path.unlink()
            # kept while started only so that placement stops it here; none of its jobs
            # (node-scoped ones included) runs here any more
            rt.service = Service(cfg, host.node) if rt.started else None
            host.scheduler.unload(rt.name)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text)
            os.replace(tmp, path)
            log.info(f"{rt.name}: local config written from the cluster", svc=rt.name)
        first = rt.service is None
        rt.service = Service(cfg, host.node)
        if first:
            rt.found(locally_started(rt.service), "its resources as found on this node")
        if rt.started and host.keeper is not None:  # guarded as configured now
            host.keeper.guard(rt.name, text)
        store = host.records.run_store(rt.name)  # a fence's queued records go from it
        if first and store is not None:  # runs a crash left begun and never ended
            for record in store.finish_stale():
                log.warning(f"{rt.name} {record.rid}: run {record.run_id} {record.reason}; "
                            "recorded interrupted", svc=rt.name, rid=record.rid)
        host.scheduler.load(rt)

    def adopt_orphans(self, names: set[str]) -> None:
        """Local configs of services deleted from the cluster while this agent was down:
        take them in (with their local started state) so ``forget`` stops them and removes
        the file."""
        from orchestrator import service as service_mod

        host = self.host
        for name in set(service_mod.service_names(host.node)) - names - set(host.runtimes):
            rt = host.runtimes[name] = Runtime(name)
            try:
                rt.service = service_mod.load(host.node, name)
                rt.found(locally_started(rt.service), "a stale local config")
                if rt.started and host.keeper is not None:
                    host.keeper.guard(name, host.node.paths.service_conf(name).read_text())
            except Exception as exc:  # noqa: BLE001 - an unreadable orphan is still removed
                log.warning(f"{name}: stale local config unreadable ({exc}); removing it",
                            svc=name)

    def forget(self, rt: Runtime) -> None:
        """The service was deleted from the cluster: stop it here, remove its local copy."""
        host = self.host
        if rt.started:
            self.instances.stop(rt, f"{rt.name}: stopping, deleted from the cluster")
            with contextlib.suppress(Exception):
                host.coord.release_lease(rt.name)
        path = host.node.paths.service_conf(rt.name)
        if path.exists():
            path.unlink()
            log.info(f"{rt.name}: deleted from the cluster, local config removed", svc=rt.name)
        with contextlib.suppress(Exception):
            host.coord.unpublish_instance(rt.name)
        rt.service = None
        host.scheduler.load(rt)
        host.leases.pop(rt.name, None)
        host.records.forget(rt.name)
        del host.runtimes[rt.name]
