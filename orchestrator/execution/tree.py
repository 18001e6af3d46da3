"""Finding and signalling every process a run started, so that no orphan survives a kill.

A run's processes are found three ways, because each alone misses some:

* the process group: the child is started in a new session, so ``killpg`` reaches
  everything that did not change group, even when its parent is gone;
* the descendants of the leader (psutil, while the leader lives): they include
  processes that called ``setsid``/``setpgid`` to leave the group;
* the run token: every process whose environment carries this run's
  ``ORCHESTRATOR_RUN_TOKEN`` (catches a process that left the group *and* whose parent
  already exited, i.e. a double-forked daemon). Reading another user's environment
  needs root; as non-root the scan sees our own processes only.

Processes are remembered once seen, so a descendant reparented to init after its parent
died still gets the SIGKILL. psutil refuses to signal a pid that was reused.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import TYPE_CHECKING

from orchestrator.execution.environment import RUN_TOKEN_VAR

if TYPE_CHECKING:  # psutil is imported when a tree is first searched: off the CLI's start-up
    import psutil


def _alive(proc: psutil.Process) -> bool:
    import psutil

    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def processes_with_env(var: str, value: str) -> list[psutil.Process]:
    """Live processes (not this one, not zombies) whose environment has ``var=value``: how a
    run's processes are found when their parent or group no longer leads to them."""
    import psutil

    me, found = os.getpid(), []
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(var) == value and _alive(proc):
                found.append(proc)
        except psutil.Error:
            continue
    return found


class ProcessTree:
    """The processes of one run: the group led by ``pid`` plus remembered descendants.

    Not thread-safe: one owner (the run's monitor thread) calls it. The caller must not
    have reaped the leader while it signals the group, so the group id cannot have been
    reused.
    """

    def __init__(self, pid: int, run_token: str | None) -> None:
        self.pid = pid
        self.pgid = pid
        self.run_token = run_token
        self._known: dict[int, psutil.Process] = {}

    def collect(self, include_leader_children: bool = True) -> list[psutil.Process]:
        """Every live process of the run known or found now (the leader excluded)."""
        import psutil

        found: dict[int, psutil.Process] = {}
        if include_leader_children:
            try:
                for proc in psutil.Process(self.pid).children(recursive=True):
                    found[proc.pid] = proc
            except psutil.Error:
                pass
        if self.run_token is not None:
            for proc in processes_with_env(RUN_TOKEN_VAR, self.run_token):
                if proc.pid != self.pid:
                    found.setdefault(proc.pid, proc)
        for pid, proc in self._known.items():
            found.setdefault(pid, proc)
        self._known = {pid: proc for pid, proc in found.items() if _alive(proc)}
        return list(self._known.values())

    def any_alive(self) -> bool:
        """True if a remembered (non-leader) process of the run is still alive."""
        return any(_alive(proc) for proc in self._known.values())

    def signal(self, sig: int, *, group: bool = True) -> int:
        """Send ``sig`` to the group (if ``group``) and to every collected process.

        Returns how many processes outside the group signal were signalled.
        """
        import psutil

        procs = self.collect()
        if group:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, sig)
        count = 0
        for proc in procs:
            try:
                proc.send_signal(sig)
                count += 1
            except psutil.Error:
                continue
        return count

    def kill_all(self, *, group: bool = True, rounds: int = 3) -> None:
        """SIGKILL everything, re-scanning a few times to catch processes forked meanwhile."""
        for _ in range(rounds):
            self.signal(signal.SIGKILL, group=group)
            if not self.collect():
                return
