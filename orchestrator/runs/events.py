"""Who hears of each final run record this process saves: the node agent's metrics.

The stores call ``saved(record)`` once a final record is written (the file store, the node
jobs' state); listeners are registered by whoever wants them (``metrics.daemon``). A process
that registers none (``svcmgr``, the fence keeper) pays one empty loop per record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_listeners: list[Callable[[Any], None]] = []


def listen(listener: Callable[[Any], None]) -> None:
    _listeners.append(listener)


def stop_listening(listener: Callable[[Any], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def saved(record: Any) -> None:
    """A final record was saved: tell every listener (one failing never stops the others)."""
    for listener in list(_listeners):
        try:
            listener(record)
        except Exception:  # noqa: BLE001 - counting must never break saving
            from orchestrator.log import get_logger

            get_logger("runs.events").exception("run record listener failed",
                                                run_id=getattr(record, "run_id", None))
