"""Cluster-wide service actions: they write the users' wish to ZooKeeper and wait for the
node agents to carry it out (create/delete, start/stop, switch, takeover, giveback,
freeze/thaw, clear), and read the whole cluster's status."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.config.service import parse_service, read_config_text, validate_service_name
from orchestrator.daemon.flex import flex_counts
from orchestrator.errors import ActionError, UsageError
from orchestrator.log import get_logger

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.coordination import ClusterStore

DEFAULT_WAIT = 60.0
log = get_logger()


def connect(node: NodeConfig) -> ClusterStore:
    from orchestrator.coordination import NotConnected, open_store

    try:
        return open_store(node, connect_timeout=5.0)
    except NotConnected as exc:
        raise ActionError(f"cannot reach the cluster's ZooKeeper at {node.zk_hosts}: {exc}"
                          ) from None


def _config(coord: ClusterStore, svc: str, node: NodeConfig) -> Any:
    text = coord.get_service_config(svc)
    if text is None:
        raise UsageError(f"unknown service {svc!r}: not in cluster "
                         f"{node.get('cluster', 'name')}")
    return parse_service(text, f"cluster:{svc}", svc, node.nodename, node.service_context())


def create(node: NodeConfig, svc: str, source: Path) -> int:
    """Validate, then install in the cluster: nothing changes unless the file is valid."""
    validate_service_name(svc)
    text = read_config_text(source)
    parse_service(text, str(source), svc, node.nodename,
                  node.service_context())  # ConfigError, exit 2
    with connect(node) as coord:
        coord.put_service_config(svc, text)
    log.info(f"installed {svc} in the cluster from {source}", svc=svc)
    return 0


def delete(node: NodeConfig, svc: str) -> int:
    with connect(node) as coord:
        _config(coord, svc, node)
        coord.delete_service_config(svc)
    log.info(f"deleted {svc} from the cluster", svc=svc)
    return 0


def _wait(what: str, check: Callable[[], str | None], timeout: float) -> int:
    """Poll ``check`` until it returns "ok" (exit 0) or an error sentence (exit 1)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = check()
        if outcome == "ok":
            return 0
        if outcome:
            log.error(f"{what} failed: {outcome}")
            return 1
        time.sleep(0.1)
    log.error(f"{what} failed: not done after {timeout:g}s")
    return 1


def _up_on(coord: ClusterStore, svc: str, node: str) -> str | None:
    target = coord.get_target(svc)
    failed = (target.get("failed") or {}).get(node)
    if failed:
        return f"{node}: {failed}"
    lease = coord.lease_holder(svc)
    inst = coord.instances(svc).get(node, {})
    if lease is not None and lease.node == node and inst.get("started"):
        return "ok"
    return None


def flex_instances(coord: ClusterStore, svc: str, counts: Any,
                   instances: dict[str, Any] | None = None) -> list[str]:
    """The nodes holding one of a flex service's instance slots with their instance
    started, in slot order (``instances``: the instance documents, when already read)."""
    from orchestrator.daemon.decisions import slot_leases

    if instances is None:
        instances = coord.instances(svc)
    held = slot_leases(coord, svc, counts.max)
    return [lease.node for _, lease in sorted(held.items())
            if instances.get(lease.node, {}).get("started")]


def switch(node: NodeConfig, svc: str, to: str, timeout: float = DEFAULT_WAIT,
           action: str = "switch") -> int:
    """Relocate the active instance to ``to``; return when it is up there or failed."""
    with connect(node) as coord:
        cfg = _config(coord, svc, node)
        if flex_counts(cfg) is not None:
            raise UsageError(f"cannot {action} {svc}: it is a flex service, active on "
                             "flex_target nodes at once (use start or stop)")
        if to not in cfg.nodes:
            raise UsageError(f"cannot {action} {svc} to {to!r}: not one of its nodes "
                             f"({' '.join(cfg.nodes)})")
        if to not in coord.nodes():
            raise ActionError(f"cannot {action} {svc} to {to}: node {to} is down")
        coord.update_target(svc, lambda t: {**t, "state": "started", "node": to, "failed": {}})
        log.info(f"{action} of {svc} to {to} requested", svc=svc)
        code = _wait(f"{action} of {svc} to {to}", lambda: _up_on(coord, svc, to), timeout)
        if code == 0:
            log.info(f"{svc} is up on {to}", svc=svc)
        return code


def _start_flex(node: NodeConfig, coord: ClusterStore, svc: str, cfg: Any,
                timeout: float) -> int:
    """Start a flex service: the agents fill flex_target instance slots (orchestrate = no:
    an instance on this node only); return when that many instances are up."""
    counts = flex_counts(cfg)
    here = node.nodename if cfg.defaults["orchestrate"] == "no" else None
    coord.update_target(svc, lambda t: {**t, "state": "started", "node": here, "failed": {}})
    want = 1 if here else counts.target
    log.info(f"start of {svc} requested ({want} instance(s))", svc=svc)

    def enough() -> str | None:
        up = flex_instances(coord, svc, counts)
        if here:
            return "ok" if here in up else _up_on_failed(coord, svc, here)
        return "ok" if len(up) >= want else None

    return _wait(f"start of {svc}", enough, timeout)


def _up_on_failed(coord: ClusterStore, svc: str, node: str) -> str | None:
    failed = (coord.get_target(svc).get("failed") or {}).get(node)
    return f"{node}: {failed}" if failed else None


def start(node: NodeConfig, svc: str, timeout: float = DEFAULT_WAIT) -> int:
    """Start the service, here (the instance on this node), wherever it is not running yet."""
    with connect(node) as coord:
        cfg = _config(coord, svc, node)
        if flex_counts(cfg) is not None:
            return _start_flex(node, coord, svc, cfg, timeout)
        lease = coord.lease_holder(svc)
    if lease is not None and lease.node != node.nodename:
        raise ActionError(f"{svc} is already active on {lease.node}: use switch or takeover")
    return switch(node, svc, node.nodename, timeout, action="start")


def stop(node: NodeConfig, svc: str, timeout: float = DEFAULT_WAIT) -> int:
    with connect(node) as coord:
        counts = flex_counts(_config(coord, svc, node))
        coord.update_target(svc, lambda t: {**t, "state": "stopped", "node": None})

        def stopped() -> str | None:
            from orchestrator.daemon.decisions import slot_leases

            started = [n for n, i in coord.instances(svc).items() if i.get("started")]
            held = slot_leases(coord, svc, counts.max) if counts is not None else {}
            return ("ok" if coord.lease_holder(svc) is None and not held and not started
                    else None)

        return _wait(f"stop of {svc}", stopped, timeout)


def giveback(node: NodeConfig, svc: str, timeout: float = DEFAULT_WAIT) -> int:
    """Back to the placement leader: the first alive node in the service's nodes order."""
    with connect(node) as coord:
        cfg = _config(coord, svc, node)
        alive = coord.nodes()
    leader = next((n for n in cfg.nodes if n in alive), None)
    if leader is None:
        raise ActionError(f"cannot give {svc} back: none of its nodes is up")
    return switch(node, svc, leader, timeout, action="giveback")


def set_frozen(node: NodeConfig, svc: str, frozen: bool) -> int:
    with connect(node) as coord:
        _config(coord, svc, node)
        coord.update_target(svc, lambda t: {**t, "frozen": frozen,
                                             **({} if frozen else {"failed": {}})})
    log.info(f"{svc} {'frozen' if frozen else 'thawed'}", svc=svc)
    return 0


def clear(node: NodeConfig, svc: str) -> int:
    """OpenSVC's ``clear``: remove the failure marks (nodes whose start failed, or whose
    monitored resource's restarts were spent) and, through ``cleared``, the resource
    monitor's restart counts on every node (each agent resets its own when it sees it)."""
    with connect(node) as coord:
        _config(coord, svc, node)
        coord.update_target(svc, lambda t: {**t, "failed": {},
                                             "cleared": int(t.get("cleared") or 0) + 1})
    log.info(f"{svc}: failure marks and restart counts cleared", svc=svc)
    return 0


def service_status(coord: ClusterStore, svc: str, node: NodeConfig) -> dict[str, Any]:
    """The cluster's view of one service (interface.md keys), readable from any node."""
    from orchestrator.daemon.flex import flex_avail
    from orchestrator.resources.status import Status, failover_avail

    cfg = _config(coord, svc, node)
    target = coord.get_target(svc)
    lease = coord.lease_holder(svc)
    alive = coord.nodes()
    instances = coord.instances(svc)
    inst_out: dict[str, Any] = {}
    for n in cfg.nodes:
        doc = instances.get(n)
        if doc is None:
            inst_out[n] = {"avail": "undef" if n not in alive else "n/a", "overall": "undef",
                           "node_state": "up" if n in alive else "down", "started": False}
            continue
        inst_out[n] = {"avail": doc.get("avail"), "overall": doc.get("overall"),
                       "node_state": "up", "started": bool(doc.get("started")),
                       "updated_at": doc.get("updated_at"), **monitored(doc)}
    avails = [Status(i["avail"]) if i["avail"] in Status._value2member_map_
              else Status.UNDEF for i in inst_out.values()]
    counts = flex_counts(cfg)
    flex: dict[str, Any] = {}
    if counts is None:
        avail = failover_avail(avails)
        active = lease.node if lease else None
    else:  # the primary instance is the one in the lowest slot
        avail = flex_avail(avails, counts)
        up = flex_instances(coord, svc, counts, instances)
        active = up[0] if up else None
        flex = {"active_nodes": up, "flex": {"min": counts.min, "max": counts.max,
                                             "target": counts.target}}
    resources = instances.get(active, {}).get("resources", {}) if active else {}
    failed = target.get("failed") or {}
    return {
        "service": svc,
        "avail": str(avail),
        "overall": str(Status.WARN if failed and avail == Status.UP else avail),
        "frozen": bool(target.get("frozen", False)),
        "active_node": active,
        "epoch": lease.epoch if lease else None,
        "topology": cfg.defaults["topology"],
        "orchestrate": cfg.defaults["orchestrate"],
        "target": {"state": target.get("state", "started"), "node": target.get("node"),
                   "failed": failed},
        "nodes": list(cfg.nodes),
        "resources": resources,
        "instances": inst_out,
        **flex,
    }


def monitored(doc: dict[str, Any]) -> dict[str, Any]:
    """An instance's watched resources (monitor or restart) with their restart counts, and
    the monitor action it took, as its agent published them."""
    out: dict[str, Any] = {}
    watched = {rid: {"status": r.get("status"), "monitor": bool(r.get("monitor")),
                     "restart": r.get("restart", 0), "restarts": r.get("restarts", 0),
                     "restarts_total": r.get("restarts_total", 0)}
               for rid, r in (doc.get("resources") or {}).items() if "restart" in r}
    if watched:
        out["monitored"] = watched
    if doc.get("monitor"):
        out["monitor_action"] = doc["monitor"]
    return out


def cluster_status(node: NodeConfig) -> dict[str, Any]:
    with connect(node) as coord:
        nodes = coord.nodes()
        known: set[str] = set()
        services = {}
        for svc in coord.service_names():
            try:
                data = service_status(coord, svc, node)
            except Exception as exc:  # noqa: BLE001 - one bad service must not hide the others
                services[svc] = {"avail": "undef", "active_node": None, "frozen": False,
                                 "instances": {}, "error": str(exc).splitlines()[0]}
                continue
            services[svc] = {k: data[k] for k in ("avail", "overall", "active_node", "frozen",
                                                   "epoch", "instances", "topology",
                                                   "active_nodes") if k in data}
            known.update(data["nodes"])
    # a node that is down is still a member: listed as down (the nodes of its services)
    members = {n: {"state": "up", **facts} for n, facts in nodes.items()}
    members.update({n: {"state": "down"} for n in sorted(known - set(nodes))})
    return {
        "cluster": node.get("cluster", "name"),
        "nodes": members,
        "services": services,
    }
