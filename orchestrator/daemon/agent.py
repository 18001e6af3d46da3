"""The node agent (``nodemgr daemon run``): joins the cluster and drives this node's services.

The agent is a loop: connect, snapshot, decide, act, fence. Each cycle reads what changed
(ZooKeeper watches mark services dirty; otherwise a service is re-read at the latest every
5 minutes), decides per service (daemon.placement, pure), carries the decision out through
daemon.instances and logs one sentence per decision when it changes. While the ZooKeeper
connection is suspended the agent starts nothing, and after the fence delay its fence keeper
stops what this node runs before the session can expire elsewhere. Between cycles the loop
beats for the keeper (daemon.heartbeat). Without ZooKeeper the node runs standalone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator.config.node import NodeConfig
from orchestrator.daemon.configs import Configs
from orchestrator.daemon.decisions import decide_for, priority_key, priority_of, read_slots
from orchestrator.daemon.fencing import FenceClock, default_fence_delay
from orchestrator.daemon.heartbeat import Heartbeat
from orchestrator.daemon.instances import STATUS_EVERY, Instances
from orchestrator.daemon.records import Records
from orchestrator.daemon.runtime import Runtime
from orchestrator.daemon.scheduler import Scheduler
from orchestrator.daemon.standalone import Standalone
from orchestrator.log import get_logger

if TYPE_CHECKING:
    from orchestrator.coordination import ClusterStore, Lease

log = get_logger()

FACTS_EVERY = 10.0
# a service's cluster documents (config, lease, target, epoch) are re-read when a watch says
# they changed, after this node changed them, after a reconnection, and at the latest this
# often (a safety net; kazoo re-arms the watches): 1,000 services read each cycle was 4,000
# ZooKeeper reads a second
REREAD_EVERY = 300.0
BEAT_EVERY = 0.2  # the loop shows it is alive this often (the fence keeper's deadlines)
# tests: while the file this names exists the decision loop blocks (a stuck loop)
BLOCK_LOOP_ENV = "ORCHESTRATOR_TEST_BLOCK_LOOP"


def node_facts(address: str | None = None) -> dict[str, Any]:
    """What a node publishes about itself: its address for peers, size and load."""
    import socket

    import psutil

    return {"address": address or socket.gethostname(), "cpu_count": psutil.cpu_count() or 1,
            "mem_total": psutil.virtual_memory().total, "load_avg": os.getloadavg()[0],
            "boot_time": psutil.boot_time(), "pid": os.getpid(), "updated_at": time.time()}


@dataclass
class Agent:
    node: NodeConfig
    loop_wait: float = 1.0
    stop_event: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.me = self.node.nodename
        self.clustered = self.node.is_clustered
        self.runtimes: dict[str, Runtime] = {}
        self.coord: ClusterStore | None = None
        self.keeper: Any = None  # the node's fence keeper link (clustered only)
        self.session_timeout = float(self.node.get("cluster", "session_timeout"))
        self.fence = FenceClock(default_fence_delay(self.session_timeout))
        self.leases: dict[str, Lease] = {}  # service -> the lease this session acquired
        self.facts_at = 0.0
        self.watched: set[str] = set()
        self.dirty: set[str] = set()  # services whose cluster documents changed (watches)
        # the decision pass is event-driven: membership and the service list are re-read
        # when their watches fire, and a service is visited when its documents changed, the
        # membership changed, or one of its timers (status, re-read) is due
        self.membership_changed = self.names_changed = True
        self.alive: frozenset[str] = frozenset()
        self.loads: dict[str, float] = {}
        self.names: set[str] = set()
        # the decision pass's order (DEFAULT.priority, then name), sorted again only when the
        # service list or a priority changed: sorting 1,000 names each second was idle CPU
        self.order: list[str] | None = None
        self.caught_up = False  # local configs of services deleted while we were away: gone
        self.scheduler = Scheduler(self)
        self.records = Records(self.node, self.clustered, self.stop_event, lambda: self.coord,
                               self.runtimes)
        self.standalone = Standalone(self.node, self.runtimes, self.scheduler)
        self.heartbeat = Heartbeat(None, self.fence_deadline, self.fence.delay, self.stop_event)
        self.instances = Instances(self)
        self.configs = Configs(self, self.instances)
        # what the scheduler and the built-in jobs use (daemon.host)
        self.run_store, self.collector = self.records.run_store, self.records.collector
        self.local_last, self.local_set_last = self.standalone.last, self.standalone.set_last
        self.publish_status = self.instances.publish_status

    # ------------------------------------------------------------------ process

    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, _frame: Any) -> None:
            self.stop_event.set()
            self.wake.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; on the way out stop what this node holds."""
        # node-level jobs (pushasset, node compliance_auto): the scheduler's, no lease, at once
        from orchestrator.daemon import sdnotify

        self.scheduler.load_node(self.node)
        self.scheduler.start()  # before joining: node jobs need no ZooKeeper (start: once)
        self.records.courier()  # retries what an earlier outage left queued
        if not self.clustered:
            log.info(f"node {self.me}: no ZooKeeper configured, running standalone")
            sdnotify.notify("READY=1")
            self.standalone.run(self.stop_event, self.loop_wait)
            return 0
        self.attach_keeper()
        self.connect()
        self.heartbeat.start()
        sdnotify.notify("READY=1")
        try:
            self.loop()
        finally:
            self.shutdown()
        return 0

    def loop(self) -> None:
        """Decide every ``loop_wait`` (sooner when a watch wakes us); beat in between."""
        next_cycle = 0.0
        block = os.environ.get(BLOCK_LOOP_ENV)
        while not self.stop_event.is_set():
            self.heartbeat.beat()
            while block and os.path.exists(block) and not self.stop_event.is_set():
                time.sleep(0.05)  # the test hook: stuck, no beat
            if self.wake.is_set() or time.monotonic() >= next_cycle:
                self.wake.clear()
                self.cycle_safely()
                next_cycle = time.monotonic() + self.next_wait()
            self.wake.wait(max(0.0, min(BEAT_EVERY, next_cycle - time.monotonic())))

    def attach_keeper(self) -> None:
        """Find (or start) this node's fence keeper before anything starts here, and hear
        what it fenced while no agent was there."""
        from orchestrator.daemon import sdnotify
        from orchestrator.fence.link import KeeperLink

        self.keeper = KeeperLink.attach(self.node.paths.root, self.me, self.stop_event,
                                        task_grace=max(0.2, self.session_timeout / 4),
                                        on_fenced=self.on_fenced)
        self.heartbeat = Heartbeat(self.keeper, self.fence_deadline, self.fence.delay,
                                   self.stop_event, notify=sdnotify.notify)

    def fence_deadline(self) -> float | None:
        """When the keeper must fence unless renewed: last ZooKeeper answer + fence delay."""
        return None if self.coord is None else self.coord.last_heard + self.fence.delay

    def on_fenced(self, reports: list[dict[str, Any]]) -> None:
        self.instances.fenced_by_keeper(reports)
        for report in reports:
            self.dirty.update(report.get("services") or {})
            self.records.mark_pending(report.get("services") or {})  # its queued records
        self.wake.set()
        self.scheduler.wake.set()

    def connect(self) -> None:
        from orchestrator.coordination import NotConnected, open_store

        while not self.stop_event.is_set():
            try:
                self.coord = open_store(self.node)
                break
            except NotConnected as exc:
                log.warning(f"node {self.me}: cannot reach ZooKeeper ({exc}); retrying")
                self.stop_event.wait(1.0)
        if self.coord is None:
            return
        self.coord.add_listener(self.on_state)
        self.coord.register_node(node_facts(self.node.get("node", "address")))
        self.facts_at = time.monotonic()
        self.coord.watch_nodes(self.on_membership)
        self.coord.watch_services(self.on_service_list)
        log.info(f"node {self.me}: joined cluster {self.node.get('cluster', 'name')} at "
                 f"{self.node.zk_hosts}")

    def on_membership(self, _names: Any = None) -> None:
        self.membership_changed = True
        self.wake.set()

    def on_service_list(self, _names: Any = None) -> None:
        self.names_changed = True
        self.wake.set()

    def on_state(self, state: Any) -> None:
        from orchestrator.coordination import ConnectionState

        if state is ConnectionState.CONNECTED:
            if self.fence.suspended_since is not None:
                log.info(f"node {self.me}: ZooKeeper connection back")
            self.fence.connected()
            self.dirty.update(list(self.runtimes))  # changes while away: read everything again
            self.membership_changed = self.names_changed = True
            self.records.mark_pending()
            self.scheduler.wake.set()  # settle uncertain claims, send queued records
            for rt in list(self.runtimes.values()):  # a new session lost our ephemeral docs
                rt.published_doc = None
        else:
            assert self.coord is not None
            self.fence.suspended(self.coord.last_heard)  # the clock runs from our last contact
            left = self.fence.seconds_left() or 0.0
            log.warning(f"node {self.me}: ZooKeeper connection {state.value}; starting "
                        f"nothing, fencing in {left:.1f}s unless it comes back")
        self.wake.set()

    def next_wait(self) -> float:
        left = self.fence.seconds_left()
        return self.loop_wait if left is None else min(self.loop_wait, left)

    def shutdown(self) -> None:
        """Stop the services this node runs, then leave: the lease goes with the session."""
        self.scheduler.interrupt_all("the node agent is shutting down")
        for rt in self.runtimes.values():
            if rt.started and rt.service is not None:
                self.instances.stop(rt, f"{rt.name}: stopping, the node agent is shutting down")
        if not self.scheduler.drain():  # the interrupted runs' records go out first
            log.warning(f"node {self.me}: runs still finishing as the agent leaves; their "
                        "records are queued on disk and sent by the next agent")
        self.flush_records()
        if self.keeper is not None:
            self.keeper.bye()  # stopped cleanly: nothing for the keeper to fence
        if self.coord is not None:
            with contextlib.suppress(Exception):
                self.coord.close()
        log.info(f"node {self.me}: agent stopped")

    # ------------------------------------------------------------------ cycle

    def cycle_safely(self) -> None:
        """One cycle; an unexpected error becomes a log sentence, never a dead loop."""
        from orchestrator.coordination import CoordinationError

        try:
            self.cycle()
        except CoordinationError as exc:
            log.warning(f"node {self.me}: cycle interrupted by ZooKeeper: {exc}")
        except Exception as exc:  # noqa: BLE001 - the loop must survive anything
            log.exception(f"node {self.me}: cycle failed: {exc!r}")

    def cycle(self) -> None:
        coord = self.coord
        assert coord is not None
        if not coord.connected:
            if self.fence.due():
                self.instances.fence_now()
            return
        now = time.monotonic()
        everyone = False  # the membership changed: every decision may change
        if now - self.facts_at >= FACTS_EVERY:
            from orchestrator.runs.slot_reaper import reap_run_slots

            coord.register_node(node_facts(self.node.get("node", "address")))
            self.facts_at = now
            reap_run_slots(coord, self.me)  # manual runs' slots whose command is gone
            self.membership_changed = True  # the loads, for placement = load avg
        if self.membership_changed:
            self.membership_changed = False
            nodes = coord.nodes()
            alive = frozenset(nodes)
            everyone, self.alive = alive != self.alive, alive
            self.loads = {n: float(f.get("load_avg", 0.0)) for n, f in nodes.items()}
        if self.names_changed:
            self.names_changed = False
            self.names = set(coord.service_names())
            self.order = None
        if not self.caught_up:
            self.configs.adopt_orphans(self.names)
            self.caught_up = True
        for gone in set(self.runtimes) - self.names:
            self.configs.forget(self.runtimes[gone])
        if self.order is None:
            self.order = sorted(self.names, key=priority_key(self.runtimes))
        for name in self.order:
            rt = self.runtimes.get(name) or self.runtimes.setdefault(name, Runtime(name))
            reread = rt.read_at is None or name in self.dirty or now - rt.read_at >= REREAD_EVERY
            if not (reread or everyone or now - rt.published_at >= STATUS_EVERY):
                continue  # nothing it depends on changed: no decision to take again
            self.heartbeat.beat()  # a pass over 1,000 services is progress, not a hang
            if name not in self.watched:
                changed = self.changed_callback(name)
                coord.watch_service_config(name, changed)
                coord.watch_lease(name, changed)
                coord.watch_target(name, changed)
                self.watched.add(name)
            if reread:
                self.read_docs(rt, now)
            if rt.service is None:
                continue
            view, decision = decide_for(rt, self.leases.get(name), self.me, self.alive,
                                        self.loads, coord.connected)
            self.instances.carry_out(rt, view, decision)
            self.instances.publish(rt)

    def changed_callback(self, name: str) -> Any:
        """A watch callback: ``name``'s config, lease or target changed; re-read it soon."""

        def changed(_value: Any) -> None:
            self.dirty.add(name)
            self.wake.set()

        return changed

    def read_docs(self, rt: Runtime, now: float) -> None:
        """Read the service's cluster documents at once (cached until a watch fires)."""
        assert self.coord is not None
        self.dirty.discard(rt.name)  # first: a change during the reads marks it again
        snap = self.coord.service_snapshot(rt.name)
        before = priority_of(rt)
        self.configs.sync(rt, snap.config)
        if priority_of(rt) != before:
            self.order = None
        rt.lease, rt.target, rt.epoch = snap.lease, snap.target, snap.epoch
        read_slots(self.coord, rt, self.changed_callback(rt.name))  # flex only
        if rt.read_at is None:  # spread the periodic re-reads of services loaded together
            now -= REREAD_EVERY * (zlib.crc32(rt.name.encode()) % 1000) / 1000
        rt.read_at = now

    # ------------------------------------------------------------------ for the scheduler

    def coord_connected(self) -> bool:
        return (self.coord is not None and self.coord.connected
                and self.fence.suspended_since is None)

    def lease_of(self, svc: str) -> Lease | None:
        """The lease this session holds for ``svc`` (claims are fenced by it), or None."""
        return self.leases.get(svc) if self.coord_connected() else None

    def peer_addresses(self) -> dict[str, str]:
        """Where the other nodes are: their published address (cluster) or their name."""
        if self.clustered and self.coord_connected():
            assert self.coord is not None
            return {n: f.get("address") or n for n, f in self.coord.nodes().items()}
        return {}

    def flush_records(self) -> None:
        """Send run records kept while ZooKeeper was out of reach."""
        if self.clustered and self.coord_connected():
            self.records.flush()
