"""What happens between fork and exec, and how a start that failed is explained: small
pieces of execution.process that run in (or about) the child before it is a command."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
from collections.abc import Callable

from orchestrator.execution.errors import CommandStartError
from orchestrator.execution.identity import Identity
from orchestrator.execution.spec import CommandSpec

_READ_SIZE = 65536


def _child_setup(
    rlimits: list[tuple[int, int]], identity: Identity, cwd: str
) -> Callable[[], None]:
    """The function run in the child between fork and exec.

    Only syscalls on precomputed values: no name lookups, no logging, no locks. On
    failure it writes one ``[orchestrator]`` line to the output pipe (fd 2) so the parent
    can report why, then raises (subprocess turns that into SubprocessError).
    """
    groups = list(identity.groups)
    uid, gid, switch = identity.uid, identity.gid, identity.switch

    def setup() -> None:
        step = "reset the signal mask"
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, ())
            for res, value in rlimits:
                step = f"set rlimit {res} to {value}"
                resource.setrlimit(res, (value, value))
            if switch:
                step = f"switch to uid {uid} gid {gid}"
                if os.geteuid() == 0:
                    os.setgroups(groups)
                os.setresgid(gid, gid, gid)
                os.setresuid(uid, uid, uid)
            step = f"enter working directory '{cwd}'"
            os.chdir(cwd)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            os.write(2, f"[orchestrator] cannot {step}: {reason}\n".encode())
            raise

    return setup


def _signals_blocked() -> bool:
    """Whether this thread blocks signals (the child would inherit the mask)."""
    return bool(signal.pthread_sigmask(signal.SIG_BLOCK, ()))


def _read_all(fd: int) -> bytes:
    os.set_blocking(fd, False)
    chunks = []
    with contextlib.suppress(BlockingIOError, OSError):
        while True:
            data = os.read(fd, _READ_SIZE)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def _start_error(
    spec: CommandSpec, argv: list[str], identity: Identity, exc: BaseException, details: bytes
) -> CommandStartError:
    who = f" as user '{identity.name}'" if identity.switch else ""
    prefix = f"cannot run {spec.command!r}{who}"
    if isinstance(exc, FileNotFoundError):
        return CommandStartError(f"{prefix}: {argv[0]}: no such executable", 127)
    if isinstance(exc, PermissionError):
        return CommandStartError(f"{prefix}: {argv[0]}: permission denied", 126)
    if isinstance(exc, OSError):
        return CommandStartError(f"{prefix}: {argv[0]}: {exc.strerror or exc}", 126)
    text = details.decode("utf-8", errors="replace").strip().splitlines()
    why = text[-1].removeprefix("[orchestrator] ") if text else str(exc)
    return CommandStartError(f"{prefix}: {why}", 126)
