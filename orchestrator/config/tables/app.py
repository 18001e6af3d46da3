"""Keywords of ``[app#N]`` sections."""

from __future__ import annotations

from orchestrator.config import types as t
from orchestrator.config.keyword import EXECUTION_COMMON, RESOURCE_COMMON, Keyword
from orchestrator.config.keyword import kw as _kw

ROWS: list[Keyword] = [
    _kw("app", "start", t.to_string, None, "Command that starts the application."),
    _kw("app", "stop", t.to_string, None, "Command that stops the application."),
    _kw("app", "check", t.to_string, None,
        "Command whose exit code gives the status (0 up, else down). Unset: the last start/stop."),
    _kw("app", "info", t.to_string, None, "Command printing key: value lines pushed as resource info."),
    _kw("app", "standby", t.to_bool, False,
        "Started on passive nodes too; its status reads stdby up / stdby down."),
    _kw("app", "timeout", t.to_duration, None, "Timeout of start, stop and check commands."),
    *[_kw("app", n, c, d, doc) for n, c, d, doc in EXECUTION_COMMON],
    *[_kw("app", n, c, d, doc) for n, c, d, doc in RESOURCE_COMMON],
]
