"""Keywords of node.conf's ``[node]``, ``[cluster]`` and ``[collector]`` sections."""

from __future__ import annotations

from orchestrator.config import types as t
from orchestrator.config.keyword import Keyword
from orchestrator.config.keyword import kw as _kw

ROWS: list[Keyword] = [
    _kw("node", "name", t.to_string, None, "This node's name. Default: the host name.",
        scopable=False),
    _kw("node", "tz", t.to_timezone, None, "Time zone of node-level jobs.", scopable=False),
    _kw("node", "env", t.to_string, "TST",
        "The node's env code (OpenSVC's node.env): a service whose env is not PRD is not "
        "started on a PRD node; the default env of services ({node.env}).", scopable=False),
    _kw("node", "address", t.to_string, None,
        "Address peers use to reach this node (rsync over ssh). Default: the host name.",
        scopable=False),
    _kw("node", "pushasset_schedule", t.to_schedule, "~00:00-06:00",
        "Schedule of the node asset push.", scopable=False),
    _kw("node", "comp_schedule", t.to_schedule, "~00:00-06:00",
        "Schedule of the node compliance run.", scopable=False),
    _kw("node", "allow_monitor_reboot", t.to_bool, False,
        "Let monitor_action reboot or crash this node (sysrq). Off: those actions are "
        "refused and recorded so.", scopable=False),
    _kw("node", "misfire", t.choice("once", "skip"), "once",
        "Policy of node jobs for runs missed while the daemon was down (as DEFAULT.misfire).",
        scopable=False),
    _kw("node", "misfire_grace", t.to_duration, None,
        "Lateness after which a node job's due run counts as missed.", scopable=False),
    _kw("cluster", "name", t.to_string, "default", "Cluster name (one ZooKeeper chroot per name).",
        scopable=False),
    _kw("cluster", "nodes", t.to_list, None,
        "The cluster's nodes, in order (OpenSVC's cluster.nodes): what a service's nodes = * "
        "and {clusternodes} mean. Unset: this node alone on a standalone node; on a "
        "clustered node, * and {clusternodes} are refused until it is set.", scopable=False),
    _kw("cluster", "id", t.to_string, None,
        "The cluster's id ({clusterid}). Default: a UUID derived from the cluster name.",
        scopable=False),
    _kw("cluster", "dns", t.to_list, (),
        "Addresses of the cluster's DNS servers ({dns}, {dnsnodes} in service configs).",
        scopable=False),
    _kw("cluster", "zk", t.to_string, None,
        "ZooKeeper connect string host:port,host:port[/chroot]. Unset: standalone node.",
        scopable=False),
    _kw("cluster", "secret", t.to_string, None,
        "Shared secret: digest ACLs on the cluster's tree.", scopable=False),
    _kw("cluster", "session_timeout", t.to_duration, 2.0, "ZooKeeper session timeout.",
        scopable=False),
    _kw("collector", "url", t.to_string, None, "Collector base URL.", scopable=False),
    _kw("collector", "token", t.to_string, None, "Cluster token for the collector.", scopable=False),
]
