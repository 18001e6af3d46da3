"""What both CLIs share: error handling, exit codes, output formats."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from orchestrator.errors import OrchestratorError, UsageError


class ArgParser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line and exit 2 (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in cells)


def guarded(main: Callable[[list[str]], int]) -> Callable[[list[str] | None], int]:
    """Run a CLI body: user errors become one line on stderr and their exit code."""

    def wrapper(argv: list[str] | None = None) -> int:
        args = sys.argv[1:] if argv is None else argv
        try:
            return main(args)
        except OrchestratorError as exc:
            for line in str(exc).splitlines() or [exc.__class__.__name__]:
                sys.stderr.write(f"error: {line}\n")
            return exc.exit_code
        except KeyboardInterrupt:
            sys.stderr.write("error: interrupted\n")
            return 130
        except BrokenPipeError:
            return 1
        except Exception as exc:  # a bug: say so in one line unless debugging
            if os.environ.get("ORCHESTRATOR_DEBUG"):
                raise
            sys.stderr.write(f"error: internal error: {exc.__class__.__name__}: {exc} "
                             "(set ORCHESTRATOR_DEBUG=1 for details)\n")
            return 1

    return wrapper
