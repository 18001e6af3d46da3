"""Where a failover service should be active, decided from one snapshot: pure logic.

The agent builds a ``ServiceView`` per service each cycle, calls ``decide`` and carries the
decision out. Every decision carries the sentence the agent logs (and tests assert), in the
spirit of Patroni's ``_run_cycle``: one sentence per service per cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Act(StrEnum):
    NOTHING = "nothing"
    ACQUIRE_AND_START = "acquire_and_start"  # take the lease, then start resources
    START = "start"  # we hold the lease but resources are not started
    STOP_AND_RELEASE = "stop_and_release"  # stop resources, then give the lease up
    STOP = "stop"  # stop resources we should not run (another node holds the lease)


@dataclass(frozen=True)
class Target:
    """What users asked of the service, stored in the cluster (``svcmgr start/stop/switch``).

    ``node`` is a requested active node (switch, takeover, giveback, start on this node);
    ``failed`` maps nodes to the reason they are marked failed (they are skipped): their
    last start failed, or a monitored resource's restarts were spent there (switch).
    """

    state: str = "started"  # "started" | "stopped"
    node: str | None = None
    frozen: bool = False
    failed: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Target:
        doc = doc or {}
        return cls(state=doc.get("state", "started"), node=doc.get("node"),
                   frozen=bool(doc.get("frozen", False)), failed=dict(doc.get("failed") or {}))


@dataclass(frozen=True)
class ServiceView:
    name: str
    nodes: tuple[str, ...]
    orchestrate: str  # "no" | "start" | "ha"
    placement: str  # "nodes order" | "load avg"
    target: Target
    lease_node: str | None
    lease_epoch: int | None
    epoch: int  # current fencing epoch counter (0 = never active)
    alive: frozenset[str]
    loads: dict[str, float] = field(default_factory=dict)
    # False when the lease names this node but an earlier session of it (an agent that
    # died or was restarted): that lease expires soon and must not be acted under
    lease_ours: bool = True


@dataclass(frozen=True)
class Decision:
    act: Act
    sentence: str
    slot: int | None = None  # flex: the instance slot to take (daemon.flex)


def candidates(view: ServiceView) -> list[str]:
    """Alive nodes of the service that have not failed to start it, best first."""
    usable = [n for n in view.nodes if n in view.alive and n not in view.target.failed]
    if view.placement == "load avg":
        order = {n: i for i, n in enumerate(view.nodes)}
        usable.sort(key=lambda n: (view.loads.get(n, float("inf")), order[n]))
    return usable


def placement_leader(view: ServiceView) -> str | None:
    found = candidates(view)
    return found[0] if found else None


def decide(view: ServiceView, me: str, started: bool, connected: bool) -> Decision:
    """What this node should do about one service now."""
    if not connected:
        return Decision(Act.NOTHING, f"{view.name}: ZooKeeper connection not usable; "
                        "starting nothing")
    if me not in view.nodes:
        if started or view.lease_node == me:
            # give the lease up too, or no node of the service could ever take it
            return Decision(Act.STOP_AND_RELEASE, f"{view.name}: stopping and handing it "
                            f"over, {me} is no longer in its nodes")
        return Decision(Act.NOTHING, f"{view.name}: not a node of this service")
    target = view.target
    if view.lease_node == me and not view.lease_ours:
        if started:
            return Decision(Act.STOP, f"{view.name}: stopping, the lease (epoch "
                            f"{view.lease_epoch}) is an earlier agent session's of this node")
        return Decision(Act.NOTHING, f"{view.name}: waiting for the lease of this node's "
                        f"earlier agent session (epoch {view.lease_epoch}) to expire")
    if view.lease_node == me:
        return _as_holder(view, me, started)
    if view.lease_node is not None:
        if started:
            return Decision(Act.STOP, f"{view.name}: stopping, {view.lease_node} holds the "
                            f"lease (epoch {view.lease_epoch})")
        return Decision(Act.NOTHING, f"{view.name}: active on {view.lease_node} "
                        f"(epoch {view.lease_epoch})")
    # nobody holds the lease
    if started:
        return Decision(Act.STOP, f"{view.name}: stopping, this node lost the lease")
    if target.state != "started":
        return Decision(Act.NOTHING, f"{view.name}: stopped by request")
    if target.node is not None and target.node in view.alive and target.node not in target.failed:
        if target.node == me:
            return Decision(Act.ACQUIRE_AND_START, f"{view.name}: starting here on request")
        return Decision(Act.NOTHING, f"{view.name}: waiting for {target.node} to take it "
                        "on request")
    if target.frozen:
        return Decision(Act.NOTHING, f"{view.name}: frozen, no automatic placement")
    if view.orchestrate == "no":
        return Decision(Act.NOTHING, f"{view.name}: down, orchestrate = no")
    if view.orchestrate == "start" and view.epoch > 0 and target.node is None:
        return Decision(Act.NOTHING, f"{view.name}: down, orchestrate = start does not fail "
                        "over")
    leader = placement_leader(view)
    if leader is None:
        return Decision(Act.NOTHING, f"{view.name}: no healthy node can take it "
                        f"(failed: {_failed(target)})")
    if leader != me:
        return Decision(Act.NOTHING, f"{view.name}: {leader} is the placement leader")
    why = "lowest load average" if view.placement == "load avg" else "first healthy node in nodes order"
    skipped = [n for n in view.nodes[: view.nodes.index(me)] if n in target.failed]
    monitored = [n for n in skipped if target.failed[n].startswith("monitored resource")]
    started = [n for n in skipped if n not in monitored]
    notes = ([f"{', '.join(started)} failed to start it"] if started else []) + (
        [f"{', '.join(monitored)} gave it up: {target.failed[monitored[0]]}"] if monitored
        else [])
    note = f" ({'; '.join(notes)})" if notes else ""
    return Decision(Act.ACQUIRE_AND_START, f"{view.name}: placing here, {why}{note}")


def _as_holder(view: ServiceView, me: str, started: bool) -> Decision:
    target = view.target
    if target.state != "started":
        return Decision(Act.STOP_AND_RELEASE, f"{view.name}: stopping, stopped by request")
    if (target.node is not None and target.node != me and target.node in view.alive
            and target.node not in target.failed):
        return Decision(Act.STOP_AND_RELEASE, f"{view.name}: switching to {target.node}")
    if me in target.failed:
        return Decision(Act.STOP_AND_RELEASE, f"{view.name}: giving up here: "
                        f"{target.failed[me]}")
    if not started:
        return Decision(Act.START, f"{view.name}: starting, this node holds the lease "
                        f"(epoch {view.lease_epoch})")
    return Decision(Act.NOTHING, f"{view.name}: active here (epoch {view.lease_epoch})")


def _failed(target: Target) -> str:
    return ", ".join(f"{n}: {r}" for n, r in target.failed.items()) or "none"
