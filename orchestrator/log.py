"""structlog set-up, once per process.

On a terminal, lines look like OpenSVC's (``11:29:36,973 task#0      INFO    run confirmed``);
otherwise one JSON object per line. ``ORCHESTRATOR_LOG_FORMAT=console|json`` overrides the
choice. A service's actions also append JSON lines to ``<root>/var/log/orchestrator/<svc>.log``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import structlog

_FILE_KEY = "_logfile"


def _add_timestamp(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    event["timestamp"] = datetime.now(UTC).isoformat(timespec="milliseconds")
    return event


def _console_line(event: dict[str, Any]) -> str:
    local = datetime.fromisoformat(event["timestamp"]).astimezone()
    ts = f"{local:%H:%M:%S},{local.microsecond // 1000:03d}"
    rid = event.get("rid") or ""
    level = str(event.get("level", "info")).upper()
    extras = {k: v for k, v in event.items()
              if k not in ("timestamp", "rid", "level", "event", "svc", "node", _FILE_KEY)}
    tail = "".join(f" {k}={v}" for k, v in extras.items())
    return f"{ts} {rid:<11} {level:<7} {event['event']}{tail}"


def _json_line(event: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in event.items() if k != _FILE_KEY}, default=str)


class _Renderer:
    """Render for the stream, and append the JSON form to the service's log file if bound."""

    def __init__(self, console: bool):
        self.console = console

    def __call__(self, _: Any, __: str, event: dict[str, Any]) -> str:
        logfile = event.get(_FILE_KEY)
        if logfile:
            try:
                with open(logfile, "a", encoding="utf-8") as fh:
                    fh.write(_json_line(event) + "\n")
            except OSError:
                pass
        return _console_line(event) if self.console else _json_line(event)


def configure(stream: TextIO | None = None, fmt: str | None = None) -> None:
    """Configure structlog for this process; call once at start-up."""
    stream = stream or sys.stderr
    fmt = fmt or os.environ.get("ORCHESTRATOR_LOG_FORMAT")
    console = fmt == "console" if fmt in ("console", "json") else stream.isatty()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _add_timestamp,
            _Renderer(console),
        ],
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=True,
    )


def service_logfile(log_dir: Path, svcname: str) -> str | None:
    """The JSON log file of a service, created if possible (None when not writable)."""
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return str(log_dir / f"{svcname}.log")


def bind_service_log(logfile: str | None) -> None:
    if logfile:
        structlog.contextvars.bind_contextvars(**{_FILE_KEY: logfile})


get_logger = structlog.get_logger
