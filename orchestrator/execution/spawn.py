"""Starting a command's process, shared by execution.process (a run it owns and watches)
and execution.detached (a simple app that outlives its starter): what is worked out before
the fork (:func:`prepare`), the fork and exec (:func:`popen`), what happens between them in
the child, and how a start that failed is explained (:func:`start_failure`)."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
from collections.abc import Callable
from typing import IO, NamedTuple

from orchestrator.execution.command import build_argv
from orchestrator.execution.environment import build_environment
from orchestrator.execution.errors import CommandStartError
from orchestrator.execution.identity import Identity, resolve_identity
from orchestrator.execution.spec import CommandSpec


class Launch(NamedTuple):
    """A command resolved for its start: what it execs, as whom, where, with what."""

    argv: list[str]
    identity: Identity
    env: dict[str, str]
    cwd: str
    # run in the child between fork and exec; None: nothing to do there (vfork is used)
    child_setup: Callable[[], None] | None


def prepare(spec: CommandSpec, run_token: str) -> Launch:
    """Resolve ``spec`` for a start. Raises what a start raises before anything runs: a bad
    command (CommandSyntaxError), an unknown user or group, an impersonation refused."""
    argv = list(spec.argv) if spec.argv else build_argv(spec.command)
    identity = resolve_identity(spec.user, spec.group)
    env = build_environment(identity, spec.environment, run_token)
    cwd = spec.cwd or (identity.home if os.path.isdir(identity.home) else "/")
    rlimits = spec.rlimits()
    # a Python preexec_fn forces fork() (3-8 ms in a 60 MB daemon, the GIL held); without
    # one, subprocess uses vfork (0.2 ms): only pay for it when the child has work to do
    child_setup = (_child_setup(rlimits, identity, cwd)
                   if rlimits or identity.switch or _signals_blocked() else None)
    return Launch(argv, identity, env, cwd, child_setup)


def popen(spec: CommandSpec, launch: Launch, output: int | IO[bytes]) -> subprocess.Popen[bytes]:
    """Fork and exec ``launch`` in a session of its own, stdin from /dev/null, stdout and
    stderr to ``output``. Raises OSError or SubprocessError: see :func:`start_failure`."""
    return subprocess.Popen(
        launch.argv,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=output,
        env=launch.env,
        close_fds=True,
        start_new_session=True,
        umask=-1 if spec.umask is None else spec.umask,
        cwd=None if launch.child_setup else launch.cwd,
        preexec_fn=launch.child_setup,  # noqa: PLW1509 - only precomputed syscalls
    )


def start_failure(spec: CommandSpec, launch: Launch, exc: BaseException,
                  details: bytes) -> CommandStartError:
    """Why :func:`popen` failed, as the error a start raises; ``details``: what the child
    wrote before it could become the command (its ``[orchestrator]`` line)."""
    if launch.child_setup is None and isinstance(exc, OSError) and exc.filename == launch.cwd:
        details = f"cannot enter working directory '{launch.cwd}': {exc.strerror}".encode()
        exc = subprocess.SubprocessError(exc.strerror)
    return _start_error(spec, launch.argv, launch.identity, exc, details)

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
