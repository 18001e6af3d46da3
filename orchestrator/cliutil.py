"""What every command-line entry point shares (svcmgr, nodemgr, orchestrator-collector):
argparse that reports bad usage as one line, and the guard that turns user errors into one
line on stderr and their exit code.

It sits below both ``orchestrator.cli`` and ``orchestrator.collector``, so the collector
never imports the node's CLI package.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from orchestrator.errors import OrchestratorError, UsageError


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter given its width: its own default asks ``shutil``, whose import
    (bz2, lzma, ...) was a few percent of ``svcmgr run``'s start-up (bench/README.md)."""

    def __init__(self, prog: str, **kw: object) -> None:
        try:
            width = int(os.environ.get("COLUMNS") or os.get_terminal_size(2).columns) - 2
        except (OSError, ValueError):
            width = 78
        super().__init__(prog, width=max(width, 40), **kw)  # type: ignore[arg-type]


class ArgParser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line and exit 2 (no usage dump)."""

    def __init__(self, *args: object, **kw: object) -> None:
        kw.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kw)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


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
