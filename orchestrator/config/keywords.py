"""The table of every configuration keyword: one row drives parsing, validation,
``print config``, and the keyword reference in docs/keywords.md.

Section kinds: ``DEFAULT`` and the resource drivers ``app``, ``task``, ``sync`` in service
configs; ``node``, ``cluster``, ``collector`` in node.conf. ``[env]`` holds free-form
variables for ``{env.VAR}`` references.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.config import types as t
from orchestrator.resources.registry import DRIVERS


@dataclass(frozen=True)
class Keyword:
    name: str
    section: str
    convert: Callable[[str], Any]
    default: Any
    doc: str
    scopable: bool = True
    required: bool = False
    # why a valid value is refused (not supported yet, nothing to do here), or None: accepted
    refuse: Callable[[Any], str | None] | None = None

    @property
    def type_name(self) -> str:
        return t.type_name(self.convert)


def _kw(section: str, name: str, convert: Callable[[str], Any], default: Any, doc: str,
        **extra: Any) -> Keyword:
    return Keyword(name, section, convert, default, doc, **extra)


def _refuse_flex(value: Any) -> str | None:
    if value == "flex":
        return ("not supported yet: only topology = failover is implemented (one active "
                "instance); flex would be accepted and then run as failover")
    return None


def _refuse_snooze(value: Any) -> str | None:
    if value:
        return ("not supported: snooze silences collector alerts during the run, and this "
                "collector raises no alerts; remove it or set 0")
    return None


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

_RESOURCE_COMMON = [
    ("tags", t.to_list, (), "Tags for selection with --tags (`a,b` or, `a+b` and)."),
    ("subset", t.to_string, None, "Subset name for selection with --subsets."),
    ("disable", t.to_bool, False, "Exclude the resource from actions, status and scheduling."),
    ("optional", t.to_bool, False,
     "A failure of this resource does not fail the action, and its status does not count in avail."),
    ("monitor", t.to_bool, False,
     "Monitored: when it is down and its restarts are spent, DEFAULT.monitor_action runs "
     "(resource_monitor job)."),
    ("restart", t.to_int, 0,
     "Restart attempts when the resource is seen down, stdby down or warn (monitored or not); "
     "the count resets when it is seen up. Only drivers started with the service (app) can "
     "be restarted."),
    ("restart_delay", t.to_duration, 0.5, "Minimum delay between two restart attempts."),
]

_EXECUTION_COMMON = [
    ("user", t.to_string, None, "Run as this user (name or uid); only root can impersonate."),
    ("group", t.to_string, None, "Run with this group (name or gid); default: the user's primary group."),
    ("cwd", t.to_string, None, "Working directory of the command."),
    ("umask", t.to_umask, None, "Umask of the command, octal (022)."),
    ("environment", t.to_environment, {}, "Extra environment, shlex list of VAR=value."),
]

_LIMITS = ["as", "core", "cpu", "data", "fsize", "memlock", "nofile", "nproc", "rss", "stack",
           "vmem"]

_ROWS: list[Keyword] = [
    # [DEFAULT] of a service
    _kw("DEFAULT", "nodes", t.to_list, None,
        "Ordered list of nodes the service runs on. Default: this node.", scopable=False),
    _kw("DEFAULT", "drpnodes", t.to_list, (), "Disaster-recovery nodes (kept for compatibility).",
        scopable=False),
    _kw("DEFAULT", "topology", t.choice("failover", "flex"), "failover",
        "failover: active on one node at a time. flex (active on several) is refused: not "
        "supported yet.", scopable=False, refuse=_refuse_flex),
    _kw("DEFAULT", "orchestrate", t.choice("no", "start", "ha"), "no",
        "no: manual only; start: start on the placement leader; ha: also fail over automatically."),
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
        "Schedule of the configuration push (push_config)."),
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
    # [app#N]
    _kw("app", "start", t.to_string, None, "Command that starts the application."),
    _kw("app", "stop", t.to_string, None, "Command that stops the application."),
    _kw("app", "check", t.to_string, None,
        "Command whose exit code gives the status (0 up, else down). Unset: the last start/stop."),
    _kw("app", "info", t.to_string, None, "Command printing key: value lines pushed as resource info."),
    _kw("app", "standby", t.to_bool, False,
        "Started on passive nodes too; its status reads stdby up / stdby down."),
    _kw("app", "timeout", t.to_duration, None, "Timeout of start, stop and check commands."),
    *[_kw("app", n, c, d, doc) for n, c, d, doc in _EXECUTION_COMMON],
    *[_kw("app", n, c, d, doc) for n, c, d, doc in _RESOURCE_COMMON],
    # [task#N]
    _kw("task", "command", t.to_string, None,
        "The command. With |, && or ; it runs through /bin/sh -c; otherwise split shell-style "
        "and executed directly.", required=True),
    *[_kw("task", n, c, d, doc) for n, c, d, doc in _EXECUTION_COMMON],
    *[_kw("task", f"limit_{n}", t.to_int, None, f"RLIMIT_{n.upper()} of the command.")
      for n in _LIMITS],
    _kw("task", "schedule", t.to_schedule, None,
        "When the daemon runs it (window, cron or anacron). Default: DEFAULT.run_schedule, "
        "else never. Empty or @0 = never."),
    _kw("task", "run_requires", t.to_requirements, (),
        "rid(state,state) ...: run only when these resources are in these states "
        "(no states = up,stdby up)."),
    _kw("task", "confirmation", t.to_bool, False,
        "Ask for confirmation before a manual run; such tasks are never scheduled."),
    _kw("task", "timeout", t.to_duration, None,
        "SIGTERM the process group after this long, SIGKILL after kill_grace; the run fails."),
    _kw("task", "kill_grace", t.to_duration, 5.0, "Delay between SIGTERM and SIGKILL."),
    _kw("task", "max_parallel", t.to_positive_int, 1,
        "Concurrent runs allowed (manual runs count too); above it the run fails."),
    _kw("task", "on_error", t.to_string, None, "Command run when the task fails."),
    _kw("task", "check", t.choice("last_run"), None,
        "last_run: the task's status is up/down from its last exit code. Unset: n/a."),
    _kw("task", "snooze", t.to_duration, 0.0,
        "Refused unless 0. In OpenSVC it snoozes the collector's alerts on the service during "
        "the run; this collector raises no alerts, so there is nothing to snooze (OpenSVC om3 "
        "parses it and does nothing either).", refuse=_refuse_snooze),
    _kw("task", "pre_run", t.to_string, None, "Command run before; its failure is logged only."),
    _kw("task", "post_run", t.to_string, None, "Command run after; its failure is logged only."),
    _kw("task", "blocking_pre_run", t.to_string, None, "Command run before; its failure aborts the run."),
    _kw("task", "blocking_post_run", t.to_string, None,
        "Command run after; its failure fails the run."),
    _kw("task", "misfire", t.choice("once", "skip"), None,
        "once: a run missed while nothing could run it runs once, late; skip: it is recorded as "
        "missed. Default: DEFAULT.misfire."),
    _kw("task", "misfire_grace", t.to_duration, None,
        "How late a due run may still start as if on time. Default: DEFAULT.misfire_grace."),
    *[_kw("task", n, c, d, doc) for n, c, d, doc in _RESOURCE_COMMON],
    # [sync#N]
    _kw("sync", "type", t.choice(*DRIVERS["sync"].types), "rsync", "Synchronization driver."),
    _kw("sync", "src", t.to_string, None, "Path copied from the active node.", required=True),
    _kw("sync", "dst", t.to_string, None, "Destination path on the peers. Default: src."),
    _kw("sync", "target", t.to_list, ("nodes",), "Peers to copy to: nodes, drpnodes."),
    _kw("sync", "options", t.to_shlex_list, (), "Extra rsync options."),
    _kw("sync", "schedule", t.to_schedule, None, "Schedule of this sync. Default: DEFAULT.sync_schedule."),
    _kw("sync", "timeout", t.to_duration, None, "Timeout of one synchronization."),
    *[_kw("sync", n, c, d, doc) for n, c, d, doc in _RESOURCE_COMMON],
    # node.conf
    _kw("node", "name", t.to_string, None, "This node's name. Default: the host name.",
        scopable=False),
    _kw("node", "tz", t.to_timezone, None, "Time zone of node-level jobs.", scopable=False),
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

KEYWORDS: dict[tuple[str, str], Keyword] = {(k.section, k.name): k for k in _ROWS}
RESOURCE_DRIVERS = tuple(DRIVERS)  # the section groups the driver registry declares
SERVICE_SECTIONS = ("DEFAULT", *RESOURCE_DRIVERS)
NODE_SECTIONS = ("node", "cluster", "collector")


def keywords_of(section_kind: str) -> dict[str, Keyword]:
    """Every keyword allowed in a section of this kind, by name."""
    return {k.name: k for k in _ROWS if k.section == section_kind}


def all_keywords() -> list[Keyword]:
    return list(_ROWS)
