"""Starting, watching and killing one command.

The daemon runs hundreds of commands a minute in one process, so a run is an object,
not a CLI process: :func:`start` returns a :class:`RunningCommand` at once and a small
monitor thread per run does everything else (copying output, the timeout, the kill
escalation, reaping). :func:`run` is ``start(...).wait()`` for the CLI.

The child
    is started in a new session (so it is its own process group and has no controlling
    terminal: Ctrl-C reaches the CLI, which terminates the run), with stdin from
    ``/dev/null``, stdout and stderr merged into one pipe, no inherited file
    descriptors, an empty signal mask, and the environment of :mod:`.environment`.
    Between fork and exec it sets the rlimits (first, while still root, so hard limits
    can be raised), then the groups, gid and uid when impersonating, then enters the
    working directory *as the target user* (so a directory the user cannot enter is an
    error, not a silent privilege). The umask is applied by subprocess.

Output
    goes, byte for byte, to the per-run log file (no timestamps: the run record has the
    times); lines written by the orchestrator itself (start failure, termination, kill,
    output cut) start with ``[orchestrator]``. If ``on_line`` is given, each output line
    (decoded as UTF-8 with replacement, without its newline) is passed to it from the
    monitor thread. When the command exits, the pipe is read until EOF but at most
    ``drain_timeout`` seconds: a background process that keeps the pipe open (``cmd &``)
    does not keep the run open, and it is not killed either (a task may start a daemon).

Termination
    :meth:`RunningCommand.terminate` (and the timeout, which calls the same code) sends
    SIGTERM to the process group and to every descendant that left it (see
    :mod:`.tree`), then SIGKILL to all of them after the grace period, or as soon as the
    leader and everything it started are gone. The leader is reaped only after the kill,
    so its group id cannot have been reused when we signal it.

Exit codes
    ``CommandResult.exit_code`` is always an int: the exit status, or ``128 + N`` when the
    command was killed by signal N (the shell's convention, so records and the CLI can
    store it as a status); ``signal`` is then N. A command that cannot be started raises
    :class:`CommandStartError` (``returncode`` 127 not found, 126 otherwise) and writes
    the reason to the log; nothing ran.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from orchestrator.execution.spawn import _read_all, popen, prepare, start_failure
from orchestrator.execution.spec import CommandSpec
from orchestrator.execution.tree import ProcessTree
from orchestrator.log import get_logger

log = get_logger(__name__)

#: Seconds to keep reading output after the command exited (see the module docstring).
DEFAULT_DRAIN_TIMEOUT = 2.0
#: Longest sleep of a monitor thread when it has to poll (no pidfd, or waiting for
#: the survivors of a terminated leader).
TICK = 0.05
_READ_SIZE = 65536
_MAX_LINE = 65536


class CommandResult(NamedTuple):
    """How a run ended. ``exit_code`` is the status, or 128+N if killed by signal N."""

    argv: tuple[str, ...]
    pid: int
    exit_code: int
    signal: int | None
    timed_out: bool
    interrupted: str | None
    started_at: datetime
    ended_at: datetime
    duration: float
    log_path: Path

    @property
    def ok(self) -> bool:
        """True if the command exited 0 on its own."""
        return self.exit_code == 0 and self.interrupted is None

    def describe(self) -> str:
        """A short human sentence: ``exited 0``, ``killed by SIGKILL (timeout after 2s)``."""
        if self.signal is not None:
            try:
                name = signal.Signals(self.signal).name
            except ValueError:
                name = f"signal {self.signal}"
            text = f"killed by {name}"
        else:
            text = f"exited {self.exit_code}"
        if self.interrupted:
            text += f" ({self.interrupted})"
        return text


class RunningCommand:
    """A started command. Thread-safe: any thread may poll, wait or terminate it."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        spec: CommandSpec,
        argv: list[str],
        log_file: object,
        log_path: Path,
        read_fd: int,
        run_token: str,
        started_at: datetime,
        started_mono: float,
        on_line: Callable[[str], None] | None,
        on_exit: Callable[[CommandResult], None] | None,
        drain_timeout: float,
    ) -> None:
        self.pid: int = proc.pid
        self.spec = spec
        self.argv: tuple[str, ...] = tuple(argv)
        self.log_path = log_path
        self.started_at = started_at
        self._proc = proc
        self._log_file = log_file
        self._read_fd = read_fd
        self._started_mono = started_mono
        self._on_line = on_line
        self._on_exit = on_exit
        self._drain_timeout = drain_timeout
        self._tree = ProcessTree(proc.pid, run_token)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._result: CommandResult | None = None
        self._request: tuple[str, float] | None = None
        self._partial = b""
        self._wake_r, wake_w = os.pipe()
        self._wake_w: int | None = wake_w  # None once closed (under self._lock)
        os.set_blocking(wake_w, False)
        try:
            self._pidfd: int | None = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            self._pidfd = None
        self._thread = threading.Thread(
            target=self._monitor, name=f"run-{proc.pid}", daemon=True
        )
        self._thread.start()

    # -- public API ---------------------------------------------------------------

    def poll(self) -> CommandResult | None:
        """The result if the run is over (output drained, leader reaped), else None."""
        return self._result

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def run_token(self) -> str | None:
        """The value of ``ORCHESTRATOR_RUN_TOKEN`` every process of the run inherits."""
        return self._tree.run_token

    def wait(self, timeout: float | None = None) -> CommandResult:
        """Block until the run is over; raise ``TimeoutError`` if ``timeout`` passes first."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"command {self.spec.command!r} (pid {self.pid}) still running")
        assert self._result is not None
        return self._result

    def note(self, text: str) -> None:
        """Write an ``[orchestrator]`` line into the run's log (an executor's own word)."""
        self._note(text)

    def terminate(self, reason: str, grace: float | None = None) -> None:
        """Kill the run: SIGTERM to the whole tree now, SIGKILL after ``grace`` seconds.

        Returns at once; :meth:`wait` for the result, whose ``interrupted`` is ``reason``.
        ``grace`` defaults to the spec's ``kill_grace``. A second call may shorten the
        grace but keeps the first reason. No effect once the command has exited.
        """
        if grace is None:
            grace = self.spec.kill_grace
        with self._lock:  # held while writing: the monitor closes the fd under it
            if self._wake_w is None:
                return
            self._request = (reason, max(0.0, grace))
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")

    # -- monitor thread -----------------------------------------------------------

    def _take_request(self) -> tuple[str, float] | None:
        with self._lock:
            request, self._request = self._request, None
        return request

    def _note(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._log_file.write(f"[orchestrator] {text}\n".encode())  # type: ignore[attr-defined]

    def _emit(self, data: bytes) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._log_file.write(data)  # type: ignore[attr-defined]
        if self._on_line is None:
            return
        buf = self._partial + data
        *lines, self._partial = buf.split(b"\n")
        if len(self._partial) > _MAX_LINE:
            lines.append(self._partial)
            self._partial = b""
        for line in lines:
            self._call_on_line(line)

    def _call_on_line(self, line: bytes) -> None:
        if self._on_line is None:
            return
        try:
            self._on_line(line.decode("utf-8", errors="replace"))
        except Exception:
            log.exception("on_line callback failed; no more lines will be passed", pid=self.pid)
            self._on_line = None

    def _leader_exited(self) -> bool:
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _monitor(self) -> None:
        try:
            self._loop()
        except BaseException:  # a run must always end and be reaped
            log.exception("run monitor failed; killing the run", pid=self.pid)
            with contextlib.suppress(Exception):
                if self._proc.returncode is None:
                    self._tree.kill_all()
                    self._proc.wait()
            if self._result is None:
                self._finish(interrupted="internal error while monitoring", timed_out=False,
                             ended_mono=time.monotonic(), ended_at=datetime.now(UTC))
        finally:
            self._close_fds()
            with contextlib.suppress(Exception):
                self._log_file.close()  # type: ignore[attr-defined]
            self._done.set()
            if self._on_exit is not None and self._result is not None:
                try:
                    self._on_exit(self._result)
                except Exception:
                    log.exception("on_exit callback failed", pid=self.pid)

    def _close_fds(self) -> None:
        """Close the run's fds; the wake fd is first taken away under the lock, so a
        ``terminate`` racing the end never writes to its number once reused by another file."""
        with self._lock:
            wake_w, self._wake_w = self._wake_w, None
        for fd in (self._read_fd, self._wake_r, wake_w, self._pidfd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _loop(self) -> None:
        spec = self.spec
        poller = select.poll()
        poller.register(self._read_fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        if self._pidfd is not None:
            poller.register(self._pidfd, select.POLLIN)
        out_open = True
        exited = reaped = killed = timed_out = False
        reason: str | None = None
        kill_deadline = drain_deadline = ended_mono = 0.0
        ended_at = self.started_at
        timeout_deadline = self._started_mono + spec.timeout if spec.timeout else None

        while True:
            now = time.monotonic()
            if not reaped:
                request = self._take_request()
                if reason is None and request is None and timeout_deadline is not None \
                        and now >= timeout_deadline:
                    request = (f"timeout after {spec.timeout:g}s", spec.kill_grace)
                    timed_out = True
                if request is not None and not exited and reason is None:
                    reason, grace = request
                    kill_deadline = now + grace
                    self._note(f"terminating ({reason}): SIGTERM to the process tree, "
                               f"SIGKILL in {grace:g}s")
                    self._tree.signal(signal.SIGTERM)
                elif request is not None and reason is not None:
                    kill_deadline = min(kill_deadline, now + request[1])
                if reason is not None and not killed and now >= kill_deadline:
                    self._note("grace period over: SIGKILL to the process tree")
                    self._tree.kill_all()
                    killed = True
                if not exited and self._leader_exited():
                    exited = True
                    if self._pidfd is not None:
                        poller.unregister(self._pidfd)
                if exited and reason is not None and not killed \
                        and not out_open and not self._tree.any_alive():
                    # Everything died on SIGTERM: sweep once (harmless) and finish early.
                    self._tree.kill_all()
                    killed = True
                if exited and (reason is None or killed):
                    self._proc.wait()
                    reaped = True
                    ended_mono = time.monotonic()
                    ended_at = datetime.now(UTC)
                    drain_deadline = ended_mono + self._drain_timeout
            if reaped:
                if not out_open:
                    break
                if time.monotonic() >= drain_deadline:
                    self._note(f"command exited but its output pipe is still open after "
                               f"{self._drain_timeout:g}s (a background process?); "
                               f"output no longer captured")
                    break

            deadlines = []
            if reaped:
                deadlines.append(drain_deadline)
            elif reason is None:
                if timeout_deadline is not None:
                    deadlines.append(timeout_deadline)
            elif not killed:
                deadlines.append(kill_deadline)
            wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            polling = not reaped and (self._pidfd is None or exited)
            if polling:
                wait = TICK if wait is None else min(wait, TICK)
            events = poller.poll(None if wait is None else int(wait * 1000) + 1)
            for fd, _event in events:
                if fd == self._read_fd:
                    data = os.read(fd, _READ_SIZE)
                    if data:
                        self._emit(data)
                    else:
                        out_open = False
                        poller.unregister(fd)
                elif fd == self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        os.read(fd, 4096)

        if self._partial:
            self._call_on_line(self._partial)
            self._partial = b""
        self._finish(interrupted=reason, timed_out=timed_out, ended_mono=ended_mono,
                     ended_at=ended_at)

    def _finish(
        self, *, interrupted: str | None, timed_out: bool, ended_mono: float, ended_at: datetime
    ) -> None:
        rc = self._proc.returncode
        if rc is None:
            rc = -signal.SIGKILL
        sig = -rc if rc < 0 else None
        result = CommandResult(
            argv=self.argv,
            pid=self.pid,
            exit_code=128 + sig if sig is not None else rc,
            signal=sig,
            timed_out=timed_out,
            interrupted=interrupted,
            started_at=self.started_at,
            ended_at=ended_at,
            duration=max(0.0, ended_mono - self._started_mono),
            log_path=self.log_path,
        )
        with self._lock:
            self._result = result


# -- starting -------------------------------------------------------------------------


def start(
    spec: CommandSpec,
    log_path: Path | str,
    *,
    on_line: Callable[[str], None] | None = None,
    on_exit: Callable[[CommandResult], None] | None = None,
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
) -> RunningCommand:
    """Start ``spec`` and return at once; output goes to ``log_path`` (truncated).

    Raises before anything runs: :class:`CommandSyntaxError` (bad command),
    :class:`IdentityError` / :class:`ImpersonationError` (user, group), and
    :class:`CommandStartError` if the process could not be started (the log then holds
    the reason). ``on_line`` gets each output line and ``on_exit`` the result, both from
    the run's monitor thread; they must be quick and must not raise.
    """
    run_token = os.urandom(16).hex()  # as secrets.token_hex, without importing secrets
    launch = prepare(spec, run_token)
    path = Path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    log_file = open(path, "wb", buffering=0)  # noqa: SIM115 - owned by the monitor thread
    read_fd, write_fd = os.pipe()
    started_at = datetime.now(UTC)
    started_mono = time.monotonic()
    try:
        proc = popen(spec, launch, write_fd)
    except (OSError, subprocess.SubprocessError) as exc:
        os.close(write_fd)
        details = _read_all(read_fd)
        os.close(read_fd)
        error = start_failure(spec, launch, exc, details)
        with contextlib.suppress(OSError):
            log_file.write(f"[orchestrator] {error}\n".encode())
        log_file.close()
        raise error from None
    except BaseException:
        os.close(write_fd)
        os.close(read_fd)
        log_file.close()
        raise
    os.close(write_fd)
    return RunningCommand(
        proc, spec, launch.argv, log_file, path, read_fd, run_token, started_at, started_mono,
        on_line, on_exit, drain_timeout,
    )


def run(
    spec: CommandSpec,
    log_path: Path | str,
    *,
    on_line: Callable[[str], None] | None = None,
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
) -> CommandResult:
    """Start ``spec`` and wait for it. If the wait is interrupted (Ctrl-C), the run is
    terminated and waited for before the exception propagates."""
    running = start(spec, log_path, on_line=on_line, drain_timeout=drain_timeout)
    try:
        return running.wait()
    except BaseException:
        running.terminate("interrupted", spec.kill_grace)
        running.wait()
        raise
