"""Starting a command that outlives whoever starts it: a simple app's foreground process.

:func:`orchestrator.execution.start` owns its child (a monitor thread copies the output,
applies the timeout, reaps). A simple app instead runs on after ``svcmgr start`` exits and
after the agent dies (the fence keeper then stops it), so nothing may tie it to its
starter: it gets a session of its own (no signal to the starter's group or terminal reaches
it), stdin from ``/dev/null`` and its output appended to a log file, not a pipe that would
break when the starter exits. The argv, identity, working directory, umask, rlimits and
environment are worked out and applied by the same code as any other command's
(``spawn.prepare``, ``spawn.popen``), and the run token
is set, so every process the app starts can be found by it (``tree.processes_with_env``).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from pathlib import Path

from orchestrator.execution.spawn import popen, prepare, start_failure
from orchestrator.execution.spec import CommandSpec


def spawn_detached(spec: CommandSpec, log_path: Path, run_token: str) -> subprocess.Popen[bytes]:
    """Start ``spec`` in a new session, output appended to ``log_path``; return at once.

    Raises what :func:`orchestrator.execution.start` raises before anything runs (bad
    command, unknown user, impersonation refused) and :class:`CommandStartError` when the
    process could not be started (the reason is also in the log). The caller reaps the
    process (:func:`reap_in_background`) or leaves it to init when it exits itself.
    """
    launch = prepare(spec, run_token)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab", buffering=0) as out:
        start = out.tell()
        try:
            return popen(spec, launch, out)
        except (OSError, subprocess.SubprocessError) as exc:
            error = start_failure(spec, launch, exc, _written_since(log_path, start))
            with contextlib.suppress(OSError):
                out.write(f"[orchestrator] {error}\n".encode())
            raise error from None


def _written_since(path: Path, offset: int) -> bytes:
    """What the child wrote to the log before it failed to become the command."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read(65536)
    except OSError:
        return b""


def reap_in_background(proc: subprocess.Popen[bytes]) -> None:
    """Reap ``proc`` when it exits, from a daemon thread: in a long-lived process (the
    agent) a dead app must not stay a zombie that looks alive to ``kill -0``."""
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
