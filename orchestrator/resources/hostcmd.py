"""Run the host's own tools (ip, arping, ping, losetup, mount, ...) for the host resource
drivers: argv only (no shell), a timeout always, and an outcome a driver can turn into the
one sentence a failed start or stop returns."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from orchestrator.log import get_logger

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class HostResult:
    argv: tuple[str, ...]
    code: int  # 127: not found; -1: timed out
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def command(self) -> str:
        return " ".join(self.argv)

    def failure(self) -> str:
        """``mount -t ext4 /dev/loop0 /srv exited with code 32: mount: ... wrong fs type``."""
        if self.code == 127:
            return f"{self.argv[0]} is not installed on this node (needed for: {self.command})"
        if self.code == -1:
            return f"{self.command} timed out"
        detail = next((line.strip() for line in (self.err or self.out).splitlines()
                       if line.strip()), "")
        return f"{self.command} exited with code {self.code}" + (f": {detail}" if detail else "")


def run(argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT, log: bool = True,
        logger: object | None = None) -> HostResult:
    """Run ``argv``; ``log``: say the command line first (as om3 logs what it changes)."""
    args = tuple(str(a) for a in argv)
    if log:
        (logger or get_logger()).info(" ".join(args))  # type: ignore[attr-defined]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        return HostResult(args, 127, "", f"{args[0]}: command not found")
    except subprocess.TimeoutExpired:
        return HostResult(args, -1, "", f"timed out after {timeout:g}s")
    return HostResult(args, proc.returncode, proc.stdout, proc.stderr)


def run_behind(argv: Sequence[str], on_failure: Callable[[HostResult], None],
               timeout: float = 10.0, early: float = 0.2, logger: object | None = None) -> None:
    """Run ``argv`` without waiting for it (an ARP announce that lingers 1 s for answers
    nobody sends): a failure within ``early`` seconds is reported before returning, a later
    one by a thread, if this process still runs (the command finishes on its own anyway)."""
    args = tuple(str(a) for a in argv)
    (logger or get_logger()).info(" ".join(args))  # type: ignore[attr-defined]
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        on_failure(HostResult(args, 127, "", f"{args[0]}: command not found"))
        return

    def reap(wait: float) -> None:
        try:
            out, err = proc.communicate(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            on_failure(HostResult(args, -1, out, err))
            return
        if proc.returncode != 0:
            on_failure(HostResult(args, proc.returncode, out, err))

    try:
        proc.wait(timeout=early)
    except subprocess.TimeoutExpired:
        threading.Thread(target=reap, args=(timeout,), name=f"reap-{args[0]}",
                         daemon=True).start()
        return
    reap(1.0)
