"""A run record as pushed: the record, plus the tail of its output for the collector's pages
and ``svcmgr logs`` on another node (a run's log file stays on the node that ran it)."""

from __future__ import annotations

import os
from typing import Any

OUTPUT_TAIL = 64 * 1024  # bytes of a finished run's output sent with its record


def read_tail(path: str, limit: int = OUTPUT_TAIL) -> tuple[str, bool] | None:
    """The last ``limit`` bytes of a file as text, and whether it had more; None if unreadable."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                fh.seek(size - limit)
            data = fh.read(limit)
    except OSError:
        return None
    return data.decode("utf-8", "replace"), size > limit


def run_item(record: Any) -> dict[str, Any]:
    """``RunRecord.to_dict()``, with ``output`` and ``output_truncated`` once it is final."""
    item = record.to_dict()
    if item.get("status") != "running" and item.get("log_path"):
        tail = read_tail(item["log_path"])
        if tail is not None:
            item["output"], item["output_truncated"] = tail
    return item
