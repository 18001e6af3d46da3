"""The confirmation prompt of dangerous tasks, word for word OpenSVC's."""

from __future__ import annotations

import os
import select
import sys
from enum import StrEnum
from typing import TextIO

DEFAULT_TIMEOUT = 30.0


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    TIMEOUT = "timeout"
    NO_TERMINAL = "no terminal"


def prompt_text(rid: str) -> str:
    return (
        "This task run requires confirmation.\n"
        "Please make sure you fully understand its role and effects before confirming the run.\n"
        f"Do you really want to run {rid} (yes/no) > "
    )


def confirm_timeout() -> float:
    try:
        return float(os.environ.get("ORCHESTRATOR_CONFIRM_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


def ask(rid: str, stdin: TextIO | None = None, stdout: TextIO | None = None,
        timeout: float | None = None) -> Answer:
    """Prompt on stdout, wait for a line on stdin; only exactly ``yes`` confirms."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if stdin is None or not stdin.isatty():
        return Answer.NO_TERMINAL
    timeout = confirm_timeout() if timeout is None else timeout
    stdout.write(prompt_text(rid))
    stdout.flush()
    ready, _, _ = select.select([stdin], [], [], timeout)
    if not ready:
        stdout.write("\n")
        stdout.flush()
        return Answer.TIMEOUT
    line = stdin.readline()
    return Answer.YES if line.strip() == "yes" else Answer.NO
