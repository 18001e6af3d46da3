"""Keywords of ``[task#N]`` sections."""

from __future__ import annotations

from typing import Any

from orchestrator.config import types as t
from orchestrator.config.keyword import EXECUTION_COMMON, RESOURCE_COMMON, Keyword, limit_rows
from orchestrator.config.keyword import kw as _kw
from orchestrator.config.tables import container_common


def _refuse_snooze(value: Any) -> str | None:
    if value:
        return ("not supported: snooze silences collector alerts during the run, and this "
                "collector raises no alerts; remove it or set 0")
    return None


ROWS: list[Keyword] = [
    _kw("task", "type", t.choice("host", *container_common.ENGINE_TYPES), "host",
        container_common.TASK_TYPE_DOC),
    _kw("task", "command", t.to_string, None,
        "The command (required with type host). With |, && or ; it runs through /bin/sh -c; "
        "otherwise split shell-style and executed directly. With a container type: the "
        "container's command, split shell-style (default: the image's).",
        aliases=("run_command",)),
    *[_kw("task", n, c, d, doc) for n, c, d, doc in EXECUTION_COMMON],
    *limit_rows("task"),
    _kw("task", "schedule", t.to_schedule, None,
        "When the daemon runs it (window, cron or anacron). Default: DEFAULT.run_schedule, "
        "else never. Empty or @0 = never."),
    _kw("task", "run_requires", t.to_requirements, (),
        "rid(state,state) ...: run only when these resources are in these states "
        "(no states = up,stdby up)."),
    _kw("task", "run_scope", t.choice("instance", "cluster"), "instance",
        "flex services only (ours; OpenSVC has none): instance runs the task on every "
        "started instance, claimed per node; cluster runs it once per slot on one started "
        "instance. A task with run_requires runs wherever they are met.", scopable=False),
    _kw("task", "confirmation", t.to_bool, False,
        "Ask for confirmation before a manual run; such tasks are never scheduled."),
    _kw("task", "timeout", t.to_duration, None,
        "SIGTERM the process group after this long, SIGKILL after kill_grace; the run fails."),
    _kw("task", "kill_grace", t.to_duration, 5.0, "Delay between SIGTERM and SIGKILL."),
    _kw("task", "max_parallel", t.to_positive_int, 1,
        "Concurrent runs allowed (manual runs count too); above it the run fails."),
    _kw("task", "on_error", t.to_string, None, "Command run when the task fails."),
    _kw("task", "check", t.choice("last_run", "last_run_warn"), None,
        "last_run: the task's status is its last exit code's, through retcodes (up, down "
        "...); last_run_warn: n/a, with the last failure as the reason. Unset: n/a."),
    _kw("task", "retcodes", t.to_retcodes, t.to_retcodes("0:up 1:down"),
        "CODE:STATUS rules: a run succeeds when its exit code maps to up; an exit code the "
        "rules do not name is warn (a failed run). check = last_run shows the status."),
    _kw("task", "run_timeout", t.to_duration, None,
        "The run's timeout; it takes precedence over timeout (om3).", overrides="timeout"),
    _kw("task", "log", t.to_bool, True,
        "Log the outputs of the task in the service log.",
        noop="the outputs of every run go to the run's log file here"),
    _kw("task", "stop", t.to_string, None, "om3: the command that stops a running task.",
        noop="a running task is stopped with SIGTERM, then SIGKILL (kill_grace), here"),
    _kw("task", "stop_timeout", t.to_duration, None, "om3: the timeout of the stop command.",
        noop="a running task is stopped with SIGTERM, then SIGKILL (kill_grace), here"),
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
    *[_kw("task", n, c, d, doc) for n, c, d, doc in RESOURCE_COMMON],
    *container_common.rows("task", task=True),
]
