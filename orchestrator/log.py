"""Logging, once per process: structlog in the long-running processes, a small renderer of
the same lines in the one-shot CLIs.

On a terminal, lines look like OpenSVC's (``11:29:36,973 task#0      INFO    run confirmed``);
otherwise one JSON object per line. ``ORCHESTRATOR_LOG_FORMAT=console|json`` overrides the
choice. A service's actions also append JSON lines to ``<root>/var/log/orchestrator/<svc>.log``.

Why two paths: ``import structlog`` costs 7 to 8 times a bare ``python -c pass`` (it pulls in
asyncio), which was most of a ``svcmgr run``'s start-up. Every module logs through
``get_logger()`` here, never through structlog itself: a logger that renders the line itself
while structlog is not imported, and hands the event to structlog once it is. The
long-running processes (the node agent, the fence keeper, ``orchestrator-collector serve``)
ask for it (``configure(through_structlog=True)``); the tests' ``capture_logs`` imports it
too. Either way the processors are the same functions below, so
a line reads the same whichever path wrote it. structlog is configured when ``configure()``
runs if it is imported already, else the moment it is imported.
"""

from __future__ import annotations

import json
import os
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

_FILE_KEY = "_logfile"
_context: ContextVar[dict[str, Any] | None] = ContextVar("orchestrator_log", default=None)
_LEVELS = {"warn": "warning", "exception": "error", "msg": "info", "fatal": "critical"}
_settings: dict[str, Any] = {"stream": None, "console": None}


def _add_timestamp(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    event["timestamp"] = datetime.now(UTC).isoformat(timespec="milliseconds")
    return event


def _merge_context(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """What ``bind_service_log`` bound for this context, under the event's own keys."""
    bound = _context.get()
    return {**bound, **event} if bound else event


def _add_traceback(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """``log.exception``: the traceback as text, in the event (JSON-safe)."""
    exc_info = event.pop("exc_info", None)
    if exc_info:
        import traceback

        if isinstance(exc_info, BaseException):
            text = "".join(traceback.format_exception(exc_info))
        else:
            text = traceback.format_exc()
        if text and text != "NoneType: None\n":
            event["exception"] = text
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


def _stream() -> TextIO:
    return _settings["stream"] or sys.stderr


def _console() -> bool:
    console = _settings["console"]
    return _stream().isatty() if console is None else console


def configure(stream: TextIO | None = None, fmt: str | None = None, *,
              through_structlog: bool = False) -> None:
    """Choose the stream and the format for this process; call once at start-up.
    ``through_structlog``: events go through structlog's pipeline (a long-running process,
    which pays its import once)."""
    _settings["stream"] = stream
    fmt = fmt or os.environ.get("ORCHESTRATOR_LOG_FORMAT")
    _settings["console"] = fmt == "console" if fmt in ("console", "json") else None
    if through_structlog:
        import structlog  # noqa: F401 - configured just below
    if "structlog" in sys.modules:
        _configure_structlog()
    elif not any(isinstance(f, _WhenImported) for f in sys.meta_path):
        sys.meta_path.insert(0, _WhenImported())


def _configure_structlog() -> None:
    import structlog

    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, _merge_context,
                    structlog.processors.add_log_level, _add_timestamp, _add_traceback,
                    _Renderer(_console())],
        logger_factory=structlog.WriteLoggerFactory(file=_stream()),
        cache_logger_on_first_use=True,
    )


class _WhenImported:
    """A one-shot import hook: configure structlog as soon as some module imports it."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "structlog":
            return None
        sys.meta_path.remove(self)
        from importlib.util import find_spec

        spec = find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _ConfigureAfter(spec.loader)
        return spec


class _ConfigureAfter:
    def __init__(self, loader: Any):
        self.loader = loader

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.loader.exec_module(module)
        _configure_structlog()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


class Logger:
    """structlog's bound-logger surface (``bind``, ``info``, ``warning``, ``exception``...)."""

    __slots__ = ("_bound",)

    def __init__(self, bound: dict[str, Any] | None = None):
        self._bound = bound or {}

    def bind(self, **values: Any) -> Logger:
        return Logger({**self._bound, **values})

    def _log(self, method: str, event: str, *args: Any, **kw: Any) -> None:
        if args:
            event = event % args
        structlog = sys.modules.get("structlog")
        if structlog is not None:  # imported in this process: its pipeline, one for all
            getattr(structlog.get_logger().bind(**self._bound), method)(event, **kw)
            return
        entry: dict[str, Any] = {**self._bound, **kw, "event": event}
        entry = _merge_context(None, method, entry)
        entry["level"] = _LEVELS.get(method, method)
        line = _Renderer(_console())(None, method, _add_traceback(None, method, _add_timestamp(
            None, method, entry)))
        stream = _stream()
        stream.write(line + "\n")
        stream.flush()

    def debug(self, event: str, *args: Any, **kw: Any) -> None:
        self._log("debug", event, *args, **kw)

    def info(self, event: str, *args: Any, **kw: Any) -> None:
        self._log("info", event, *args, **kw)

    def warning(self, event: str, *args: Any, **kw: Any) -> None:
        self._log("warning", event, *args, **kw)

    warn = warning

    def error(self, event: str, *args: Any, **kw: Any) -> None:
        self._log("error", event, *args, **kw)

    def critical(self, event: str, *args: Any, **kw: Any) -> None:
        self._log("critical", event, *args, **kw)

    def exception(self, event: str, *args: Any, **kw: Any) -> None:
        kw.setdefault("exc_info", True)
        self._log("exception", event, *args, **kw)


def get_logger(*_names: Any, **values: Any) -> Logger:
    """A logger; names are accepted for structlog's signature and not shown."""
    return Logger(values)


def service_logfile(log_dir: Path, svcname: str) -> str | None:
    """The JSON log file of a service, created if possible (None when not writable)."""
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return str(log_dir / f"{svcname}.log")


def bind_service_log(logfile: str | None) -> None:
    if logfile:
        _context.set({**(_context.get() or {}), _FILE_KEY: logfile})
