"""Keywords of a service's ``[DEFAULT]`` section."""

from __future__ import annotations

from orchestrator.config import types as t
from orchestrator.config.keyword import Keyword
from orchestrator.config.keyword import kw as _kw

MONITOR_ACTIONS = ("none", "freezestop", "switch", "reboot", "crash")


def _monitor_actions(text: str) -> tuple[str, ...]:
    """``monitor_action``: one action, or a list whose next entries are fallbacks (OpenSVC:
    ``freezestop reboot`` reboots when the stop fails)."""
    words = t.to_list(text)
    if not words:
        raise ValueError(f"expected one or more of: {', '.join(MONITOR_ACTIONS)}")
    for word in words:
        if word not in MONITOR_ACTIONS:
            raise ValueError(f"{word!r}: expected one or more of: {', '.join(MONITOR_ACTIONS)}")
    return words


_monitor_actions.choices = MONITOR_ACTIONS  # type: ignore[attr-defined]

ORCHESTRATE = ("no", "start", "ha")


def _orchestrate(text: str) -> str:
    """om3's no, start, ha; ``started`` (om3's own test data writes it, its validate refuses
    it) reads as start."""
    value = " ".join(text.split())
    if value == "started":
        return "start"
    if value not in ORCHESTRATE:
        raise ValueError(f"expected one of: {', '.join(ORCHESTRATE)}")
    return value


_orchestrate.choices = ORCHESTRATE  # type: ignore[attr-defined]


def _orchestrate_notice(text: str) -> str | None:
    if " ".join(text.split()) == "started":
        return "read as orchestrate = start (om3 takes no, start or ha and refuses started)"
    return None


_KINDS = ("svc", "vol", "cfg", "sec", "usr", "nscfg", "ccfg")  # om3's object kinds


def _refuse_kind(value: object) -> str | None:
    if value != "svc":
        return (f"only svc objects are supported here (OpenSVC {value} objects are not); "
                "remove kind or write kind = svc")
    return None


def _inherited(name: str, doc: str) -> Keyword:
    return _kw("DEFAULT", name, t.to_duration, None, doc)


ROWS: list[Keyword] = [
    _kw("DEFAULT", "nodes", t.to_list, None,
        "Ordered list of nodes the service runs on: names, * (every node of the cluster: "
        "[cluster] nodes of node.conf, or this node alone on a standalone node), globs "
        "(n[12], db*) among the cluster's nodes, references ({clusternodes}). Default: this "
        "node. Scoped: nodes@NODE as that node reads it; @encapnodes never applies here."),
    _kw("DEFAULT", "drpnodes", t.to_list, (),
        "Disaster-recovery nodes, written as nodes is: sync targets (sync target = "
        "drpnodes), @drpnodes scoping."),
    _kw("DEFAULT", "id", t.to_string, None,
        "The service's id, {id} in references (OpenSVC writes a random UUID). Default: a "
        "UUID derived from the cluster and the service name, the same on every node.",
        scopable=False),
    _kw("DEFAULT", "env", t.to_string, None,
        "A code like PRD, DEV, TST: a service that is not PRD is not started on a PRD node "
        "([node] env). Default: the node's env.", scopable=False, aliases=("service_type",)),
    _kw("DEFAULT", "priority", t.to_int, 50,
        "The daemon takes its decisions (start, stop, fail over) for services of smaller "
        "priority first.", scopable=False),
    _kw("DEFAULT", "comment", t.to_string, None,
        "Helps users understand the role of the service (shown by print config)."),
    _kw("DEFAULT", "disable", t.to_bool, False,
        "Disable every resource: no start, stop, run or status of any (a resource's own "
        "disable = false does not override it, as in OpenSVC)."),
    _kw("DEFAULT", "kind", t.choice(*_KINDS), "svc",
        "The OpenSVC object kind; only svc objects run here.", scopable=False,
        refuse=_refuse_kind),
    _inherited("timeout", "Timeout of the resources that have a timeout keyword and do not "
               "set it. Any resource keyword written in DEFAULT is so inherited (om3's "
               "leaf-to-head inheritance)."),
    _inherited("start_timeout", "Start timeout of the resources that have one and do not set "
               "it."),
    _inherited("stop_timeout", "Stop timeout of the resources that have one and do not set "
               "it."),
    _inherited("stat_timeout", "stat_timeout of the fs resources that do not set it."),
    _kw("DEFAULT", "registry_creds", t.to_string, None,
        "registry_creds of the container resources that do not set it."),
    _kw("DEFAULT", "topology", t.choice("failover", "flex"), "failover",
        "failover: active on one node at a time. flex: active on flex_target nodes at once, "
        "each instance holding an instance slot (docs/cluster.md).", scopable=False),
    _kw("DEFAULT", "flex_min", t.to_int, 1,
        "flex: below this many up instances the service's avail is warn.", scopable=False,
        aliases=("flex_min_nodes",)),
    _kw("DEFAULT", "flex_max", t.to_int, None,
        "flex: above this many up instances the service's avail is warn. Unset or 0: the "
        "number of nodes.", scopable=False, aliases=("flex_max_nodes",)),
    _kw("DEFAULT", "flex_target", t.to_int, None,
        "flex: how many instances the daemons keep started (clamped to flex_min..flex_max). "
        "Default: flex_min.", scopable=False),
    _kw("DEFAULT", "flex_primary", t.to_list, None,
        "flex: OpenSVC's node in charge of syncing the others. Accepted with no effect: "
        "here a flex service's cluster-wide jobs run on one started instance, claimed once.",
        scopable=False),
    _kw("DEFAULT", "orchestrate", _orchestrate, "no",
        "no: manual only; start: start on the placement leader; ha: also fail over "
        "automatically. started (om3's test data) reads as start, with a warning.",
        notice=_orchestrate_notice),
    _kw("DEFAULT", "placement", t.choice("nodes order", "load avg"), "nodes order",
        "How the active node is chosen: left-most healthy node, or lowest load average."),
    _kw("DEFAULT", "tz", t.to_timezone, None,
        "IANA time zone of the service's schedules. Default: the node's local zone."),
    _kw("DEFAULT", "run_schedule", t.to_schedule, None,
        "Default schedule of tasks that have no schedule of their own. Default: never."),
    _kw("DEFAULT", "status_schedule", t.to_schedule, "@10",
        "Schedule of the status evaluation and push job (status)."),
    _kw("DEFAULT", "comp_schedule", t.to_schedule, "~00:00-06:00",
        "Schedule of the compliance run (compliance_auto)."),
    _kw("DEFAULT", "resinfo_schedule", t.to_schedule, "@60",
        "Schedule of the resource information push (push_resinfo)."),
    _kw("DEFAULT", "config_schedule", t.to_schedule, "@60",
        "Schedule of the configuration push (push_config).", aliases=("push_schedule",)),
    _kw("DEFAULT", "sync_schedule", t.to_schedule, "04:00-06:00@121",
        "Default schedule of sync resources (sync_all)."),
    _kw("DEFAULT", "monitor_action", _monitor_actions, ("none",),
        "What to do when a monitored resource is down and its restarts are spent: none "
        "(report), freezestop (freeze, then stop), switch (mark this node failed, stop: the "
        "next candidate takes the service), reboot, crash (refused unless "
        "[node] allow_monitor_reboot). A second word is a fallback, run when the stop of "
        "the first fails (freezestop reboot)."),
    _kw("DEFAULT", "pre_monitor_action", t.to_string, None,
        "Command run before the monitor_action (60 s timeout); its failure is logged only."),
    _kw("DEFAULT", "monitor_schedule", t.to_schedule, "@1m",
        "Schedule of the resource monitor (resource_monitor), which restarts failed "
        "resources and runs the monitor_action."),
    _kw("DEFAULT", "comp_modules", t.to_list, (),
        "Compliance modules to run. Default: every module in the modules directory."),
    _kw("DEFAULT", "comp_autofix", t.to_bool, False, "compliance_auto runs fix instead of check."),
    _kw("DEFAULT", "misfire", t.choice("once", "skip"), "once",
        "Default policy for runs missed while nothing could run the job."),
    _kw("DEFAULT", "misfire_grace", t.to_duration, None,
        "Default lateness after which a due run counts as missed."),
]
