"""Where a flex service's instances should be active, decided from one snapshot: pure logic.

A flex service (OpenSVC's ``topology = flex``) is active on ``flex_target`` nodes at once.
Each active instance holds one *instance slot*: a lease like a failover service's, named
``<svc>@flex<K>`` (coordination.layout) for K in ``0 .. flex_target - 1``, with its own fencing epoch. Slots bound
the count the way the failover lease bounds it to one: two nodes that both see a free slot
race for its lease, and one of them loses. A node holds at most one slot of a service.

The rules follow the failover ones (daemon.placement) slot by slot: a node that holds a slot
starts its instance; one marked failed, stopped by request or holding a slot beyond a
lowered ``flex_target`` gives it up; a free slot goes to the best candidate that holds none,
so a dead node's or a failed node's instance is replaced, up to ``flex_target``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.daemon.placement import Act, Decision, ServiceView, candidates
from orchestrator.resources.status import Status


@dataclass(frozen=True)
class FlexCounts:
    """``flex_min``, ``flex_max`` and ``flex_target``, clamped as om3 clamps them
    (core/object core_config.go): max within 0..len(nodes) (0 or unset: len(nodes)),
    min within 0..max, target within min..max (unset: min)."""

    min: int
    max: int
    target: int

    @classmethod
    def of(cls, defaults: Mapping[str, Any], nodes: Iterable[str]) -> FlexCounts:
        count = len(tuple(nodes))
        high = defaults.get("flex_max")
        high = count if high is None or high <= 0 or high > count else high
        low = max(0, min(int(defaults.get("flex_min", 1)), high))
        target = defaults.get("flex_target")
        target = low if target is None else max(low, min(int(target), high))
        return cls(low, high, target)


def flex_counts(config: Any) -> FlexCounts | None:
    """A service config's flex counts; None for a failover service (the one test of
    ``topology = flex`` everything else asks)."""
    if not config.flex:
        return None
    return FlexCounts.of(config.defaults, config.nodes)


def flex_avail(instance_avails: Iterable[Status], counts: FlexCounts) -> Status:
    """om3's aggregate for flex: down with no instance up, warn below flex_min or above
    flex_max, up otherwise."""
    ups = sum(1 for s in instance_avails if s == Status.UP)
    if ups == 0:
        return Status.DOWN
    if ups < counts.min or ups > counts.max:
        return Status.WARN
    return Status.UP


@dataclass(frozen=True)
class FlexView:
    """A flex service as this node sees it: the failover view (nodes, target, alive...)
    plus who holds each instance slot, which slot (if any) this session holds, and which
    slots name this node under an earlier agent session."""

    base: ServiceView
    counts: FlexCounts
    holders: Mapping[int, str]  # slot -> node holding its lease
    mine: int | None = None  # the slot this session holds
    stale: tuple[int, ...] = ()  # slots naming this node, held by an earlier session


def decide_flex(view: FlexView, me: str, started: bool, connected: bool) -> Decision:
    """What this node should do about one flex service now (``Decision.slot``: the slot
    to take with ACQUIRE_AND_START)."""
    base, name = view.base, view.base.name
    if not connected:
        return Decision(Act.NOTHING, f"{name}: ZooKeeper connection not usable; starting "
                        "nothing")
    if me not in base.nodes:
        if started or view.mine is not None:
            return Decision(Act.STOP_AND_RELEASE, f"{name}: stopping and handing its "
                            f"instance slot over, {me} is no longer in its nodes")
        return Decision(Act.NOTHING, f"{name}: not a node of this service")
    if view.mine is not None:
        return _as_holder(view, me, started)
    if view.stale:
        if started:
            return Decision(Act.STOP, f"{name}: stopping, instance slot {view.stale[0]} is "
                            "an earlier agent session's of this node")
        return Decision(Act.NOTHING, f"{name}: waiting for the instance slot of this node's "
                        f"earlier agent session ({view.stale[0]}) to expire")
    if started:
        return Decision(Act.STOP, f"{name}: stopping, this node holds no instance slot")
    target = base.target
    if target.state != "started":
        return Decision(Act.NOTHING, f"{name}: stopped by request")
    active = sorted(set(view.holders.values()))
    running = (f"active on {', '.join(active)}" if active else "active nowhere") + (
        f" ({len(active)} of flex_target {view.counts.target})")
    free = [k for k in range(view.counts.target) if k not in view.holders]
    if not free:
        return Decision(Act.NOTHING, f"{name}: {running}")
    if target.node == me and me not in target.failed:
        return Decision(Act.ACQUIRE_AND_START, f"{name}: starting an instance here on "
                        f"request ({running})", slot=free[0])
    if target.frozen:
        return Decision(Act.NOTHING, f"{name}: frozen, no automatic placement ({running})")
    if base.orchestrate == "no":
        return Decision(Act.NOTHING, f"{name}: {running}, orchestrate = no")
    if base.orchestrate == "start" and base.epoch > 0:
        return Decision(Act.NOTHING, f"{name}: {running}, orchestrate = start does not "
                        "replace instances")
    usable = [n for n in candidates(base) if n not in active]
    if me not in usable:
        why = "marked failed: " + target.failed[me] if me in target.failed else "not a candidate"
        return Decision(Act.NOTHING, f"{name}: {running}; this node is {why}")
    rank = usable.index(me)
    if rank >= len(free):
        leaders = ", ".join(usable[: len(free)])
        return Decision(Act.NOTHING, f"{name}: {running}; {leaders} take the free instance "
                        "slot(s) first")
    return Decision(Act.ACQUIRE_AND_START, f"{name}: placing an instance here ({running}, "
                    f"free instance slot {free[rank]})", slot=free[rank])


def _as_holder(view: FlexView, me: str, started: bool) -> Decision:
    base, name, slot = view.base, view.base.name, view.mine
    target = base.target
    if target.state != "started":
        return Decision(Act.STOP_AND_RELEASE, f"{name}: stopping, stopped by request")
    if me in target.failed:
        return Decision(Act.STOP_AND_RELEASE, f"{name}: giving up here: {target.failed[me]}")
    assert slot is not None
    if slot >= view.counts.target:
        return Decision(Act.STOP_AND_RELEASE, f"{name}: stopping, instance slot {slot} is "
                        f"beyond flex_target {view.counts.target}")
    if not started:
        return Decision(Act.START, f"{name}: starting, this node holds instance slot {slot}")
    return Decision(Act.NOTHING, f"{name}: active here (instance slot {slot} of "
                    f"{view.counts.target})")
