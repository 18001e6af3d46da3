"""Where the scheduler keeps each job's last run and claims each slot: one ledger interface,
two implementations, instead of ``clustered`` branches through the scheduler.

* ``LocalLedger`` (a standalone node): the last run is this node's own, written to disk
  before the run starts (a restart does not run the slot again).
* ``NodeLedger`` (the node's own jobs, standalone or clustered: no lease, no claim): the
  last run is in the node's ``scheduler.json``, written with how the run ended (a missed
  slot: at once), where ``nodemgr print schedule`` reads it.
* ``ClusterLedger``: the last run is the newest *claim* in the cluster store, and a slot is
  claimed under the service's lease (its fencing epoch checked in the same transaction), so
  no slot runs on two nodes. A never-run job's first slot is shared ahead of time, so a
  failover catches it up. A claim whose answer was lost with the connection is read back
  once reconnected: if it landed, the slot is recorded missed with why.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from orchestrator.jobs.model import claim_time, slot_key
from orchestrator.jobs.node_kinds import NodeState
from orchestrator.log import get_logger
from orchestrator.runs import RunRecord, RunStatus, new_run_id

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.daemon.entries import Entry
    from orchestrator.daemon.host import SchedulerHost

log = get_logger()
CLAIMS_KEPT = 100

# (entry, slot, run_at, missed) -> per item the lease epoch (0: none involved), or None
Claims = list[tuple["Entry", datetime, datetime, bool]]


class Ledger(Protocol):
    def usable(self) -> bool:
        """False while nothing may be claimed (the ZooKeeper connection is not usable)."""
        ...

    def store(self, entry: Entry) -> Any:
        """Where the job's run records go (``save``), None when nowhere."""
        ...

    def read_last(self, entry: Entry) -> bool:
        """Fill ``entry.last`` (and a shared first due slot); False: not known yet."""
        ...

    def first_due_unshared(self, entry: Entry) -> bool: ...

    def share_first_due(self, entry: Entry) -> None: ...

    def claim(self, items: Claims) -> list[int | None]: ...

    def settle(self, now: datetime) -> None:
        """Settle what a lost connection left uncertain."""
        ...


class _OwnLastRuns:
    """A ledger whose last runs are this node's own: always usable, nothing shared ahead,
    nothing to settle after a reconnection."""

    def usable(self) -> bool:
        return True

    def first_due_unshared(self, entry: Entry) -> bool:
        return False

    def share_first_due(self, entry: Entry) -> None:
        return None

    def settle(self, now: datetime) -> None:
        return None


class LocalLedger(_OwnLastRuns):
    def __init__(self, host: SchedulerHost):
        self.host = host

    def store(self, entry: Entry) -> Any:
        return self.host.run_store(entry.svc)

    def read_last(self, entry: Entry) -> bool:
        entry.last = self.host.local_last(entry.svc, entry.key)
        entry.last_known = True
        return True

    def claim(self, items: Claims) -> list[int | None]:
        for entry, _, run_at, _ in items:
            self.host.local_set_last(entry.svc, entry.key, run_at)
        return [0 for _ in items]


class NodeLedger(_OwnLastRuns):
    def __init__(self, node: NodeConfig):
        self.state = NodeState(node)

    def store(self, entry: Entry) -> Any:
        return self.state  # a run's record is its last run and how it ended

    def read_last(self, entry: Entry) -> bool:
        entry.last = self.state.last(entry.key)
        entry.last_known = True
        return True

    def claim(self, items: Claims) -> list[int | None]:
        for entry, _, run_at, missed in items:
            if missed:  # no run follows to record it
                self.state.set_last(entry.key, run_at)
        return [0 for _ in items]


class ClusterLedger:
    def __init__(self, host: SchedulerHost):
        self.host = host
        # claims sent whose answer was lost with the connection: (entry, slot, request)
        self.uncertain: list[tuple[Entry, datetime, Any]] = []

    def usable(self) -> bool:
        return self.host.coord_connected()

    def store(self, entry: Entry) -> Any:
        return self.host.run_store(entry.svc)

    def read_last(self, entry: Entry) -> bool:
        from orchestrator.coordination import CoordinationError

        host = self.host
        node = host.me if entry.node_scoped else None
        try:
            claims = host.coord.claims(entry.svc, entry.key, node)
        except CoordinationError:
            return False
        entry.last = claim_time(claims[-1]) if claims else None
        if entry.last is None and not entry.node_scoped:
            # never run: continue from the first slot an earlier holder was waiting for, so
            # a slot that came due during the failover is caught up (misfire), not lost
            try:
                state = host.coord.get_job_state(entry.svc, entry.key) or {}
            except CoordinationError:
                return False
            if state.get("first_due"):
                entry.due = datetime.fromisoformat(state["first_due"])
                entry.first_due_shared = True
        entry.last_known = True
        return True

    def first_due_unshared(self, entry: Entry) -> bool:
        return entry.last is None and not entry.first_due_shared and not entry.node_scoped

    def share_first_due(self, entry: Entry) -> None:
        """Record a never-run job's first slot in the cluster (fenced by our lease)."""
        from orchestrator.coordination import CoordinationError

        lease = self.host.lease_of(entry.svc)
        if lease is None or entry.due is None:
            return
        try:
            self.host.coord.set_job_state(entry.svc, entry.key,
                                          {"first_due": entry.due.isoformat()}, lease=lease)
            entry.first_due_shared = True
        except CoordinationError as exc:
            log.warning(f"{entry.svc} {entry.key}: cannot record its first slot: {exc}",
                        svc=entry.svc)

    def claim(self, items: Claims) -> list[int | None]:
        """Claim each (entry, slot, run_at, missed) together (one round trip)."""
        from orchestrator.coordination import (
            ClaimConflict,
            ClaimRequest,
            CoordinationError,
            OutcomeUnknown,
        )

        host = self.host
        epochs: list[int | None] = [None] * len(items)
        requests, asked = [], []
        for i, (entry, slot, run_at, missed) in enumerate(items):
            fenced = not entry.node_scoped or entry.job.instance  # flex: by its slot
            lease = host.lease_of(entry.svc) if fenced else None
            if fenced and lease is None:
                continue
            payload = {"slot": slot.isoformat(), "run_at": run_at.isoformat(), "missed": missed}
            requests.append(ClaimRequest(entry.svc, entry.key, slot_key(slot), lease,
                                         entry.node_scoped, payload))
            asked.append(i)
        outcomes = host.coord.claim_runs(requests) if requests else []
        for i, request, outcome in zip(asked, requests, outcomes, strict=True):
            entry = items[i][0]
            if isinstance(outcome, ClaimConflict):
                existing = outcome.existing
                if existing is not None:
                    entry.last = claim_time(existing)
                log.info(f"{entry.svc} {entry.key}: slot {request.slot} already claimed "
                         f"by {existing.node if existing else 'another node'}; not running it",
                         svc=entry.svc)
                continue
            if isinstance(outcome, CoordinationError):
                unknown = isinstance(outcome, OutcomeUnknown)
                if unknown:
                    self.uncertain.append((entry, items[i][1], request))
                log.warning(f"{entry.svc} {entry.key}: cannot claim slot {request.slot}: "
                            f"{outcome}; not running it"
                            + ("; whether it was claimed is checked once reconnected"
                               if unknown else ""), svc=entry.svc)
                entry.last_known = False
                continue
            entry.claims += 1
            if entry.claims % 20 == 0:
                node = host.me if entry.node_scoped else None
                with contextlib.suppress(CoordinationError):
                    host.coord.prune_claims(entry.svc, entry.key, CLAIMS_KEPT, node)
            epochs[i] = request.lease.epoch if request.lease else 0
        return epochs

    def settle(self, now: datetime) -> None:
        """Claims whose answer was lost: if one did land (ours, our epoch), its slot is
        claimed but was never run, so it is recorded missed, with why; if it did not land,
        the slot is still open and the misfire policy handles it like any other."""
        from orchestrator.coordination import CoordinationError

        if not self.uncertain or not self.host.coord_connected():
            return
        host = self.host
        keep = []
        for entry, slot, request in self.uncertain:
            node = host.me if request.node_scoped else None
            try:
                claim = host.coord.get_claim(request.svc, request.job, request.slot, node)
            except CoordinationError:
                keep.append((entry, slot, request))
                continue
            epoch = request.lease.epoch if request.lease else None
            if claim is None or claim.node != host.me or claim.epoch != epoch:
                continue
            store = self.store(entry)
            if store is None:
                continue
            reason = (f"claimed by {host.me} as the ZooKeeper connection was lost, "
                      "before the run could start: not run (a slot runs at most once)")
            store.save(RunRecord(new_run_id(), entry.svc, entry.key, host.me,
                                 "scheduler", RunStatus.MISSED, scheduled_at=slot,
                                 ended_at=now, reason=reason))
            log.warning(f"{entry.svc} {entry.key}: slot {request.slot} {reason}",
                        svc=entry.svc)
        self.uncertain = keep
