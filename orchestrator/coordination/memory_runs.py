"""The in-memory store's job state, run records and max_parallel slots (mixed into
``memory.MemoryStore``, as ``service_docs.RunSlots`` is into the ZooKeeper store)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.coordination import codec, layout
from orchestrator.coordination.states import Lease, RunSlot

if TYPE_CHECKING:
    from orchestrator.coordination.memory_tree import MemoryCluster


class MemoryRuns:
    """Needs ``self.cluster``, ``self.node``, ``self._require`` and ``self._check_lease``."""

    cluster: MemoryCluster
    node: str
    _persistent_slots: bool = False

    def _require(self, method: str, what: str = "") -> int:
        raise NotImplementedError

    def _check_lease(self, lease: Lease | None, svc: str, what: str) -> None:
        raise NotImplementedError

    def _prune(self, base: str, keep: int) -> int:
        raise NotImplementedError

    # ------------------------------------------------------------------ job state, runs

    def get_job_state(self, svc: str, job: str, node: str | None = None
                      ) -> dict[str, Any] | None:
        with self.cluster.lock:
            self._require("get_job_state")
            path = layout.job_state_path(svc, job, node)
            z = self.cluster.get(path)
            return None if z is None else codec.decode(z.data, path)

    def set_job_state(self, svc: str, job: str, state: dict[str, Any], node: str | None = None,
                      lease: Lease | None = None) -> None:
        what = f"set state of {svc}/{job}"
        with self.cluster.lock:
            self._require("set_job_state", what)
            self._check_lease(lease, svc, what)
            path = layout.job_state_path(svc, job, node)
            if self.cluster.create(path, codec.encode(state)) is None:
                self.cluster.set(path, codec.encode(state))
        self.cluster.notify()

    def append_run_record(self, svc: str, job: str, record: dict[str, Any], keep: int = 100
                          ) -> None:
        with self.cluster.lock:
            self._require("append_run_record")
            self.cluster.create(layout.run_record_prefix(svc, job), codec.encode(record),
                                sequence=True)
            self._prune(layout.runs_path(svc, job), keep)
        self.cluster.notify()

    def run_records(self, svc: str, job: str | None = None) -> list[dict[str, Any]]:
        with self.cluster.lock:
            self._require("run_records")
            jobs = [job] if job is not None else self.cluster.children(layout.jobs_path(svc))
            found = [z for j in jobs for _, z in self.cluster.by_age(layout.runs_path(svc, j))]
            found.sort(key=lambda z: z.czxid)
            docs = [codec.decode(z.data, "run record") for z in found]
            return [d for d in docs if isinstance(d, dict)]

    # ------------------------------------------------------------------ max_parallel slots

    def persist_run_slots(self) -> None:
        self._persistent_slots = True

    def take_run_slot(self, svc: str, rid: str, max_parallel: int, doc: dict[str, Any]
                      ) -> str | None:
        with self.cluster.lock:
            session = self._require("take_run_slot", f"take a run slot of {svc}/{rid}")
            taken = None
            for k in range(max_parallel):
                path = layout.run_slot_path(svc, rid, k)
                if self._persistent_slots:
                    if self.cluster.create(path, codec.encode(doc)) is not None:
                        entry = layout.slot_entry_path(self.node, path)
                        self.cluster.delete(entry)  # a release cut short left it behind
                        self.cluster.create(entry, codec.encode({"slot": path}))
                        taken = path
                elif self.cluster.create(path, codec.encode(doc), owner=session) is not None:
                    taken = path
                if taken:
                    break
        self.cluster.notify()
        return taken

    def release_run_slot(self, path: str) -> None:
        with self.cluster.lock:
            self._require("release_run_slot")
            self.cluster.delete(path)
            if self._persistent_slots:
                self.cluster.delete(layout.slot_entry_path(self.node, path))
        self.cluster.notify()

    def note_run_slot_command(self, path: str, pid: int, started: float | None) -> None:
        with self.cluster.lock:
            self._require("note_run_slot_command", f"note the command of run slot {path}")
            z = self.cluster.get(path)
            if z is None:
                return  # the run ended meanwhile
            doc = codec.decode(z.data, path) or {}
            doc["extra"] = {**(doc.get("extra") or {}), "command_pid": pid,
                            "command_started": started}
            self.cluster.set(path, codec.encode(doc))
        self.cluster.notify()

    def running_runs(self, svc: str, rid: str) -> list[dict[str, Any]]:
        with self.cluster.lock:
            self._require("running_runs")
            base = layout.running_path(svc, rid)
            return [codec.decode(z.data, p) or {} for p, z in
                    sorted(self.cluster.by_age(base))]

    def node_run_slots(self, node: str) -> list[RunSlot]:
        with self.cluster.lock:
            self._require("node_run_slots")
            slots = []
            for entry, z in sorted(self.cluster.by_age(layout.node_slots_path(node))):
                path = (codec.decode(z.data, entry) or {}).get("slot")
                if not isinstance(path, str):
                    continue
                slot = self.cluster.get(path)
                slots.append(RunSlot(path, None) if slot is None else
                             RunSlot(path, codec.decode(slot.data, path) or {}, slot.version))
            return slots

    def free_run_slot(self, slot: RunSlot, node: str) -> bool:
        with self.cluster.lock:
            self._require("free_run_slot", f"free run slot {slot.path}")
            entry = layout.slot_entry_path(node, slot.path)
            if slot.version is None:
                self.cluster.delete(entry)
                freed = True
            else:
                z = self.cluster.get(slot.path)
                freed = (z is not None and z.version == slot.version
                         and self.cluster.get(entry) is not None)
                if freed:
                    self.cluster.delete(slot.path)
                    self.cluster.delete(entry)
        self.cluster.notify()
        return freed
