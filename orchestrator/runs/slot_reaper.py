"""max_parallel slots of runs that outlive their runner: ``svcmgr run`` starts its command in
the command's own session, so a SIGKILLed svcmgr leaves the command running. Its slot must
keep counting until that command ends, not until svcmgr's ZooKeeper session expires.

* ``ManualRunStore`` (svcmgr): takes persistent slots and notes the command in the slot
  (pid and create time), beside the local running marker.
* ``reap_run_slots`` (the node agent, periodically): frees this node's persistent slots
  whose runner and command are both gone; a slot of another node is never touched (its
  pids mean nothing here).
"""

from __future__ import annotations

from typing import Any

from orchestrator.coordination.states import RunSlot
from orchestrator.log import get_logger
from orchestrator.runs.cluster_store import ClusterRunStore
from orchestrator.runs.record import RunRecord
from orchestrator.runs.store import FileRunStore, process_alive

log = get_logger("runs.slots")


class ManualRunStore(ClusterRunStore):
    """The cluster store of a run whose command outlives the process that started it."""

    def __init__(self, coord: Any, svc: str, local: FileRunStore):
        super().__init__(coord, svc, local)
        coord.persist_run_slots()

    def note_command(self, record: RunRecord, pid: int, started: float | None) -> None:
        """Note the command locally and in the slot: the reaper keeps the slot while it runs."""
        from orchestrator.coordination import CoordinationError

        super().note_command(record, pid, started)
        slot = self.slots.get(record.run_id)
        if slot is None:
            return
        try:
            self.coord.note_run_slot_command(slot, pid, started)
        except CoordinationError as exc:  # the slot then counts while svcmgr lives only
            log.warning("run slot does not name its command", slot=slot, error=str(exc))


def reap_run_slots(coord: Any, node: str) -> list[str]:
    """Free ``node``'s persistent slots whose runner and command are both gone (call it on
    ``node`` itself, where those pids mean something); one sentence per slot freed.

    Never raises for ZooKeeper (the agent calls it from its cycle): what it could not read
    or free waits for the next call."""
    from orchestrator.coordination import CoordinationError

    try:
        slots = coord.node_run_slots(node)
    except CoordinationError as exc:
        log.warning("run slots not reaped", node=node, error=str(exc))
        return []
    freed = []
    for slot in slots:
        if slot.doc is None or slot.doc.get("node") != node:  # gone, or another run's now
            slot = RunSlot(slot.path, None)  # noqa: PLW2901 - only its index entry goes
        reason = _why_free(slot.doc)
        if reason is None:
            continue
        try:
            if not coord.free_run_slot(slot, node) or slot.doc is None:
                continue
        except CoordinationError as exc:
            log.warning("run slot not freed", slot=slot.path, reason=reason, error=str(exc))
            continue
        log.info(f"run slot freed: {reason}", slot=slot.path)
        freed.append(reason)
    return freed


def _why_free(doc: dict[str, Any] | None) -> str | None:
    """Why the slot may go, or None while its run may still be running."""
    if doc is None:
        return "the slot is gone or no longer this node's (index entry left behind)"
    extra = doc.get("extra") or {}
    command = extra.get("command_pid")
    if process_alive(doc.get("pid"), doc.get("pid_started")) \
            or process_alive(command, extra.get("command_started")):
        return None
    if command is None and _run_process(doc.get("run_id")):
        # its runner died between starting the command and noting its pid in the slot:
        # the command still runs (found by the run id every command of a run carries)
        return None
    gone = f"pid {doc.get('pid')}" + (f", command pid {command}" if command else "")
    return (f"run {doc.get('run_id')} of {doc.get('service')}/{doc.get('rid')}: the processes "
            f"running it ({gone}) are gone, so its max_parallel slot is free again")


def _run_process(run_id: str | None) -> bool:
    """Does a process of run ``run_id`` (ORCHESTRATOR_RUN_ID in its environment) live?"""
    from orchestrator.execution.tree import processes_with_env

    return bool(run_id) and bool(processes_with_env("ORCHESTRATOR_RUN_ID", run_id))
