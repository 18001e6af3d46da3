"""What both node CLIs share: error handling and exit codes (``orchestrator.cliutil``, shared
with the collector's CLI too), output formats."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from orchestrator.cliutil import ArgParser, guarded

__all__ = ["ArgParser", "emit_json", "guarded", "table"]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in cells)
