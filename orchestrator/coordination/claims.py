"""Claims of scheduled slots and the jobs' shared state, as a part of ``Coordinator``: a slot
is claimed in one transaction that also checks the claimant's lease and fencing epoch, so a
node that is not the lease holder (or whose epoch is stale) cannot claim it; see
docs/coordination.md. The ``_`` helpers it uses (session, lease checks, pruning) are the
Coordinator's own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from kazoo import exceptions as kx

from orchestrator.coordination import codec, layout
from orchestrator.coordination.client import (
    KAZOO_ERRORS,
    kazoo_errors,
    translate,
    translated,
    tx_failure,
)
from orchestrator.coordination.errors import (
    ClaimConflict,
    CoordinationError,
    NotConnected,
    OutcomeUnknown,
)
from orchestrator.coordination.states import Claim, ClaimRequest, Lease


@dataclass
class _SentClaim:
    request: ClaimRequest
    claim: Claim
    base: str
    path: str
    nchecks: int
    result: Any  # kazoo's async result of the transaction



class Claims:
    _session: Any

    @translated
    def claim_run(
        self,
        svc: str,
        job: str,
        slot: str,
        lease: Lease | None,
        node_scoped: bool = False,
        payload: dict[str, Any] | None = None,
    ) -> Claim:
        """Claim run ``slot`` of ``job`` exactly once, before starting it.

        One transaction: [lease still ours and current] + create the claim znode. Raises
        ``ClaimConflict`` (``.existing`` says whose) if the slot is taken, ``FencedOut`` /
        ``NotLeaseHolder`` if ``lease`` is stale, ``NotConnected`` unless CONNECTED. After
        ``NotConnected`` the outcome is unknown: ``get_claim`` tells whose the slot is.
        """
        request = ClaimRequest(svc, job, slot, lease, node_scoped, payload)
        zk = self._session.require_connected(request.what)
        for attempt in range(2):
            sent = self._send_claim(zk, request)
            outcome = self._settle_claim(zk, sent, retry=not attempt)
            if outcome is not None:
                return outcome
            zk.forget_path(sent.base)  # the claims node went away since we ensured it
        raise AssertionError("unreachable: the second attempt settles")  # pragma: no cover

    def claim_runs(self, requests: list[ClaimRequest]) -> list[Claim | CoordinationError]:
        """Claim several slots at once, each exactly as ``claim_run`` would (same checks,
        same errors, returned instead of raised). The transactions are sent together, so N
        claims cost about one round trip instead of N: the scheduler claims every slot due
        in a second before it starts any."""
        try:
            zk = self._session.require_connected("claim run slots")
        except CoordinationError as exc:
            return [exc for _ in requests]
        sent: list[_SentClaim | CoordinationError] = []
        for request in requests:  # every transaction goes out before any answer is awaited
            try:
                with kazoo_errors(request.what):
                    sent.append(self._send_claim(zk, request))
            except CoordinationError as exc:
                sent.append(exc)
        return [item if isinstance(item, CoordinationError) else self._settle_sent(zk, item)
                for item in sent]  # one outcome per request, in request order

    def _settle_sent(self, zk: Any, item: _SentClaim) -> Claim | CoordinationError:
        try:
            with kazoo_errors(item.request.what):
                outcome = self._settle_claim(zk, item, retry=True)
            if outcome is None:  # its claims node was deleted: the one-by-one way
                zk.forget_path(item.base)
                r = item.request
                outcome = self.claim_run(r.svc, r.job, r.slot, r.lease, r.node_scoped, r.payload)
            return outcome
        except CoordinationError as exc:
            return exc

    def _send_claim(self, zk: Any, request: ClaimRequest) -> _SentClaim:
        lease = request.lease
        self._check_lease_arg(lease, request.svc, request.what)
        scope = self.node if request.node_scoped else None
        claim = Claim(
            svc=request.svc,
            job=request.job,
            slot=request.slot,
            node=self.node,
            epoch=lease.epoch if lease else None,
            claimed_at=time.time(),
            node_scoped=request.node_scoped,
            payload=dict(request.payload or {}),
        )
        base = layout.claims_path(request.svc, request.job, scope)
        path = layout.claim_path(request.svc, request.job, request.slot, scope)
        zk.ensure_path(base)
        tx = zk.transaction()
        nchecks = self._add_lease_checks(tx, lease) if lease else 0
        tx.create(path, codec.encode(codec.claim_doc(claim)))
        return _SentClaim(request, claim, base, path, nchecks, tx.commit_async())

    def _settle_claim(self, zk: Any, sent: _SentClaim, retry: bool) -> Claim | None:
        """The claim, or None when ``retry`` and the claims node was gone; raises otherwise
        (``OutcomeUnknown`` when the transaction went out but its answer did not come)."""
        try:
            results = zk.wait(sent.result)
        except KAZOO_ERRORS as exc:
            error = translate(exc, sent.request.what)
            if isinstance(error, NotConnected):
                raise OutcomeUnknown(f"{error}; sent, so the slot may be claimed or not"
                                     ) from exc
            raise error from exc
        failure = tx_failure(results)
        if failure is None:
            return sent.claim
        index, exc = failure
        lease, what = sent.request.lease, sent.request.what
        if lease is not None and index < sent.nchecks:
            raise self._fencing_error(lease, index, exc, what)
        if isinstance(exc, kx.NoNodeError) and retry:
            return None
        if isinstance(exc, kx.NodeExistsError):
            existing = self._read_claim(sent.path)
            whose = f" by node {existing.node} (epoch {existing.epoch})" if existing else ""
            raise ClaimConflict(f"{what}: slot already claimed{whose}", existing)
        raise exc

    @translated
    def get_claim(self, svc: str, job: str, slot: str, node: str | None = None) -> Claim | None:
        """The claim of a slot (``node`` for a node-scoped claim), or None."""
        return self._read_claim(layout.claim_path(svc, job, slot, node))

    @translated
    def claims(self, svc: str, job: str, node: str | None = None) -> list[Claim]:
        """The claims of a job, oldest first."""
        return [
            c for _, c in self._children_by_age(layout.claims_path(svc, job, node), codec.claim_from)
        ]

    @translated
    def prune_claims(self, svc: str, job: str, keep: int = 100, node: str | None = None) -> int:
        """Delete all but the newest ``keep`` claims of a job; returns how many went."""
        return self._prune(layout.claims_path(svc, job, node), keep)

    def _read_claim(self, path: str) -> Claim | None:
        try:
            data, _ = self._session.client().get(path)
        except kx.NoNodeError:
            return None
        return codec.claim_from(data, path)

    # ------------------------------------------------------------------ job state, runs

    @translated
    def get_job_state(self, svc: str, job: str, node: str | None = None) -> dict[str, Any] | None:
        path = layout.job_state_path(svc, job, node)
        try:
            data, _ = self._session.client().get(path)
        except kx.NoNodeError:
            return None
        return codec.decode(data, path)

    @translated
    def set_job_state(
        self,
        svc: str,
        job: str,
        state: dict[str, Any],
        node: str | None = None,
        lease: Lease | None = None,
    ) -> None:
        """Write a job's state (JSON); with ``lease``, only if it is still ours and current."""
        what = f"set state of {svc}/{job}"
        zk = self._session.client(what)
        self._check_lease_arg(lease, svc, what)
        path = layout.job_state_path(svc, job, node)
        data = codec.encode(state)
        zk.ensure_path(layout.job_path(svc, job, node))
        exists = zk.exists(path) is not None
        tx = zk.transaction()
        nchecks = self._add_lease_checks(tx, lease) if lease else 0
        if exists:
            tx.set_data(path, data)
        else:
            tx.create(path, data)
        failure = tx_failure(zk.commit(tx))
        if failure is None:
            return
        index, exc = failure
        if lease is not None and index < nchecks:
            raise self._fencing_error(lease, index, exc, what)
        if isinstance(exc, kx.NodeExistsError | kx.NoNodeError):
            # Created or deleted concurrently: a plain write settles it.
            return self.set_job_state(svc, job, state, node, lease)
        raise exc
