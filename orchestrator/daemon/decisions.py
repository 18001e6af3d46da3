"""The snapshot placement decides from, built from what the agent last read of a service,
for either topology: the failover lease (daemon.placement) or a flex service's instance
slots (daemon.flex). Reading the slots is here too, so the agent loop only asks "what now?".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orchestrator.coordination.layout import lease_owner, slot_lease_name
from orchestrator.daemon.flex import FlexCounts, FlexView, decide_flex, flex_counts
from orchestrator.daemon.placement import Decision, ServiceView, Target, decide

if TYPE_CHECKING:
    from orchestrator.coordination import ClusterStore, Lease
    from orchestrator.daemon.runtime import Runtime


def priority_key(runtimes: dict[str, Runtime]) -> Callable[[str], tuple[int, str]]:
    """The order of a decision pass: services of smaller DEFAULT.priority first (OpenSVC's
    priority), then by name; a service whose config is not read yet has the default, 50."""

    def key(name: str) -> tuple[int, str]:
        rt = runtimes.get(name)
        return (priority_of(rt) if rt is not None else 50), name

    return key


def priority_of(rt: Runtime) -> int:
    """``rt``'s DEFAULT.priority; 50 (OpenSVC's default) while its config is not read."""
    if rt.service is None:
        return 50
    return int(rt.service.config.defaults.get("priority", 50))


def counts_of(rt: Runtime) -> FlexCounts | None:
    """``rt``'s flex counts; None for a failover service (or one not loaded)."""
    return flex_counts(rt.service.config) if rt.service is not None else None


def service_view(rt: Runtime, mine: Lease | None, alive: frozenset[str],
                 loads: dict[str, float]) -> ServiceView:
    """What placement decides from: the service's documents as last read, and whether the
    lease they name is ``mine`` (a lease naming this node but an earlier agent session's is
    not ours to act under)."""
    assert rt.service is not None
    defaults, lease = rt.service.config.defaults, rt.lease
    return ServiceView(
        name=rt.name, nodes=rt.service.config.nodes, orchestrate=defaults["orchestrate"],
        placement=defaults["placement"], target=Target.from_doc(rt.target),
        lease_node=lease.node if lease else None, lease_epoch=lease.epoch if lease else None,
        epoch=rt.epoch or 0, alive=alive, loads=loads,
        lease_ours=lease is None or (mine is not None and mine.epoch == lease.epoch))


def flex_view(rt: Runtime, mine: Lease | None, me: str, alive: frozenset[str],
              loads: dict[str, float]) -> FlexView:
    """The failover view plus the instance slots: who holds each, which one is this
    session's (``mine``), and which name this node under an earlier session."""
    base = service_view(rt, None, alive, loads)
    slots: dict[int, Lease] = rt.slots or {}
    own = lease_owner(mine.svc)[1] if mine is not None else None
    if own is not None and (own not in slots or slots[own].epoch != mine.epoch):  # type: ignore[union-attr]
        own = None  # lost (expired, or taken over) since: not ours to act under
    stale = tuple(k for k, lease in sorted(slots.items()) if lease.node == me and k != own)
    counts = counts_of(rt)
    assert counts is not None
    return FlexView(base, counts, {k: lease.node for k, lease in slots.items()},
                    own, stale)


def decide_for(rt: Runtime, mine: Lease | None, me: str, alive: frozenset[str],
               loads: dict[str, float], connected: bool) -> tuple[ServiceView, Decision]:
    """What this node should do about ``rt`` now, and the view it decided from."""
    if counts_of(rt) is not None:
        view = flex_view(rt, mine, me, alive, loads)
        return view.base, decide_flex(view, me, rt.started, connected)
    view = service_view(rt, mine, alive, loads)
    return view, decide(view, me, rt.started, connected)


def lease_name(rt: Runtime, decision: Decision) -> str:
    """The lease an ACQUIRE_AND_START takes: the service's, or the chosen instance slot's."""
    return rt.name if decision.slot is None else slot_lease_name(rt.name, decision.slot)


def slot_leases(coord: ClusterStore, svc: str, count: int) -> dict[int, Lease]:
    """Who holds each of the first ``count`` instance slots of flex service ``svc``."""
    found = {}
    for k in range(count):
        lease = coord.lease_holder(slot_lease_name(svc, k))
        if lease is not None:
            found[k] = lease
    return found


def read_slots(coord: ClusterStore, rt: Runtime, watch: Callable[[Any], None]) -> None:
    """Read a flex service's instance slots (up to flex_max: a lowered flex_target leaves
    holders beyond it, who must see themselves there) and watch each one once."""
    counts = counts_of(rt)
    if counts is None:
        rt.slots = None
        return
    names = [slot_lease_name(rt.name, k) for k in range(counts.max)]
    for name in names:
        if name not in rt.watched_slots:
            coord.watch_lease(name, watch)
            rt.watched_slots.add(name)
    rt.slots = slot_leases(coord, rt.name, len(names))
    rt.epoch = max((coord.current_epoch(n) for n in names[: counts.target]), default=0)
