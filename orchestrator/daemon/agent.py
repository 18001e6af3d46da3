"""The node agent (``nodemgr daemon run``): joins the cluster and drives this node's services.

One loop: read a snapshot, decide per service (daemon.placement), act, log one sentence per
decision when it changes. ZooKeeper watches wake the loop early. While the ZooKeeper
connection is suspended the agent starts nothing, and after ``fence_delay`` it stops the
resources of the services it holds (self-fencing) before its session can expire elsewhere.
Without ZooKeeper configured the node runs standalone (no placement).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from orchestrator.config.errors import ConfigError
from orchestrator.config.node import NodeConfig
from orchestrator.config.service import parse_service
from orchestrator.daemon.fencing import FenceClock, default_fence_delay
from orchestrator.daemon.heartbeat import Heartbeat
from orchestrator.daemon.placement import Act, Decision, ServiceView, Target, decide
from orchestrator.daemon.scheduler import Scheduler
from orchestrator.service import Service

log = structlog.get_logger()

FACTS_EVERY = 10.0
STATUS_EVERY = 10.0
# a service's cluster documents (config, lease, target, epoch) are re-read when a watch says
# they changed, after this node changed them, after a reconnection, and at the latest this
# often (a safety net; kazoo re-arms the watches): 1,000 services read each cycle was 4,000
# ZooKeeper reads a second
REREAD_EVERY = 300.0
PUBLISH_UNCHANGED_EVERY = 60.0  # an unchanged instance status is re-written this often
BEAT_EVERY = 0.2  # the loop shows it is alive this often (the fence keeper's deadlines)
# a resource start or stop counts as the loop being alive for at most this long
ACTION_BUSY = 600.0
# tests: while the file this names exists the decision loop blocks (a stuck loop)
BLOCK_LOOP_ENV = "ORCHESTRATOR_TEST_BLOCK_LOOP"


def node_facts(address: str | None = None) -> dict[str, Any]:
    """What a node publishes about itself: its address for peers, size and load."""
    import socket

    import psutil

    return {
        "address": address or socket.gethostname(),
        "cpu_count": psutil.cpu_count() or 1,
        "mem_total": psutil.virtual_memory().total,
        "load_avg": os.getloadavg()[0],
        "boot_time": psutil.boot_time(),
        "pid": os.getpid(),
        "updated_at": time.time(),
    }


@dataclass
class Runtime:
    """What this node knows and does about one service."""

    name: str
    text: str | None = None
    service: Service | None = None
    started: bool = False
    last_sentence: str | None = None
    published_at: float = 0.0
    error: str | None = None
    read_at: float | None = None  # when lease/target/epoch were last read (monotonic)
    published_doc: dict[str, Any] | None = None  # the instance status last written
    written_at: float = 0.0
    lease: Any = None
    target: Any = None
    epoch: int | None = None


@dataclass
class Agent:
    node: NodeConfig
    loop_wait: float = 1.0
    stop_event: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.me = self.node.nodename
        self.runtimes: dict[str, Runtime] = {}
        self.coord: Any = None
        self.session_timeout = float(self.node.get("cluster", "session_timeout"))
        self.fence = FenceClock(default_fence_delay(self.session_timeout))
        self.facts_at = 0.0
        self.watched: set[str] = set()
        self.clustered = self.node.is_clustered
        self.leases: dict[str, Any] = {}  # service -> the Lease this session acquired
        self.stores: dict[str, Any] = {}
        self.sched_states: dict[str, dict[str, Any]] = {}  # standalone scheduler state
        self.scheduler = Scheduler(self)
        self.caught_up = False  # local configs of services deleted while we were away: gone
        self.dirty: set[str] = set()  # services whose cluster documents changed (watches)
        self.keeper: Any = None  # the node's fence keeper (clustered only)
        self.heartbeat = Heartbeat(None, self.fence_deadline, self.fence.delay, self.stop_event)

    # ------------------------------------------------------------------ process

    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, _frame: Any) -> None:
            self.stop_event.set()
            self.wake.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; on the way out stop what this node holds."""
        # node-level jobs (pushasset, node compliance_auto): a thread of their own, no lease
        from orchestrator.daemon.node_jobs import NodeJobs

        NodeJobs(self.node, self.collector, self.stop_event).start()
        self.courier()  # retries what an earlier outage left queued, even if nothing runs
        if not self.clustered:
            log.info(f"node {self.me}: no ZooKeeper configured, running standalone")
            self.scheduler.start()
            try:
                while not self.stop_event.is_set():
                    self.scan_local()
                    self.stop_event.wait(self.loop_wait)
            finally:
                self.scheduler.interrupt_all("the node agent is shutting down")
            return 0
        self.attach_keeper()
        self.connect()
        self.heartbeat.start()
        self.scheduler.start()
        from orchestrator.daemon import sdnotify

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

    # ------------------------------------------------------------------ fence keeper

    def attach_keeper(self) -> None:
        """Find (or start) this node's fence keeper before anything starts here, and hear
        what it fenced while no agent was there."""
        from orchestrator.daemon import sdnotify
        from orchestrator.fence.link import KeeperLink, KeeperUnavailable

        self.keeper = KeeperLink(self.node.paths.root, self.me,
                                 task_grace=max(0.2, self.session_timeout / 4),
                                 on_fenced=self.on_fenced)
        self.heartbeat = Heartbeat(self.keeper, self.fence_deadline, self.fence.delay,
                                   self.stop_event, notify=sdnotify.notify)
        while not self.stop_event.is_set():
            try:
                self.keeper.connect()
                break
            except KeeperUnavailable as exc:
                log.error(f"node {self.me}: {exc}; retrying (nothing starts without it)")
                self.stop_event.wait(1.0)
        log.info(f"node {self.me}: fence keeper pid {self.keeper.keeper_pid} guards this node")

    def fence_deadline(self) -> float | None:
        """When the keeper must fence unless renewed: last ZooKeeper answer + fence delay."""
        if self.coord is None:
            return None
        return self.coord.last_heard + self.fence.delay

    def on_fenced(self, reports: list[dict[str, Any]]) -> None:
        """The keeper fenced what an agent (this one, hung or stopped, or a dead one before
        it) started here: none of it runs any more; placement decides what comes back."""
        for report in reports:
            services = sorted(report.get("services") or {})
            log.warning(f"node {self.me}: the fence keeper fenced agent "
                        f"{report.get('agent_pid')} at {report.get('at')} ({report.get('why')}): "
                        f"stopped {', '.join(services) or 'no service'}, interrupted "
                        f"{len(report.get('tasks') or [])} task(s)")
            if self.keeper is not None:
                self.keeper.forget_fenced(report)
            for name in services:
                rt = self.runtimes.get(name)
                if rt is not None and report.get("agent_pid") == os.getpid():
                    rt.started = False
                    self.dirty.add(name)
        self.wake.set()

    def connect(self) -> None:
        from orchestrator.coordination import Coordinator, NotConnected

        cluster = self.node.get("cluster", "name")
        while not self.stop_event.is_set():
            try:
                self.coord = Coordinator(self.node.zk_hosts, cluster,
                                         self.node.get("cluster", "secret"),
                                         self.session_timeout, self.me)
                break
            except NotConnected as exc:
                log.warning(f"node {self.me}: cannot reach ZooKeeper ({exc}); retrying")
                self.stop_event.wait(1.0)
        if self.coord is None:
            return
        self.coord.add_listener(self.on_state)
        self.coord.register_node(node_facts(self.node.get("node", "address")))
        self.facts_at = time.monotonic()
        self.coord.watch_nodes(self.wake)
        self.coord.watch_services(self.wake)
        log.info(f"node {self.me}: joined cluster {cluster} at {self.node.zk_hosts}")

    def on_state(self, state: Any) -> None:
        from orchestrator.coordination import ConnectionState

        if state is ConnectionState.CONNECTED:
            if self.fence.suspended_since is not None:
                log.info(f"node {self.me}: ZooKeeper connection back")
            self.fence.connected()
            self.dirty.update(list(self.runtimes))  # changes while away: read everything again
            for rt in list(self.runtimes.values()):  # a new session lost our ephemeral docs
                rt.published_doc = None
        else:
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
                self.stop_resources(rt, f"{rt.name}: stopping, the node agent is shutting down")
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
        if not self.coord.connected:
            if self.fence.due():
                self.fence_now()
            return
        now = time.monotonic()
        if now - self.facts_at >= FACTS_EVERY:
            self.coord.register_node(node_facts(self.node.get("node", "address")))
            self.facts_at = now
            from orchestrator.runs.slot_reaper import reap_run_slots

            reap_run_slots(self.coord, self.me)  # manual runs' slots whose command is gone
        nodes = self.coord.nodes()
        alive = frozenset(nodes)
        loads = {n: float(f.get("load_avg", 0.0)) for n, f in nodes.items()}
        names = set(self.coord.service_names())
        if not self.caught_up:
            self.adopt_orphans(names)
            self.caught_up = True
        for gone in set(self.runtimes) - names:
            self.forget(self.runtimes[gone])
        for name in sorted(names):
            self.heartbeat.beat()  # a pass over 1,000 services is progress, not a hang
            rt = self.runtimes.setdefault(name, Runtime(name))
            if name not in self.watched:
                changed = self.changed_callback(name)
                self.coord.watch_service_config(name, changed)
                self.coord.watch_lease(name, changed)
                self.coord.watch_target(name, changed)
                self.watched.add(name)
            if rt.read_at is None or name in self.dirty or now - rt.read_at >= REREAD_EVERY:
                self.read_docs(rt, now)
            if rt.service is None:
                continue
            view = self.view(rt, alive, loads)
            decision = decide(view, self.me, rt.started, self.coord.connected)
            self.carry_out(rt, view, decision)
            self.publish(rt)

    def changed_callback(self, name: str) -> Any:
        """A watch callback: ``name``'s config, lease or target changed; re-read it soon."""

        def changed(_value: Any) -> None:
            self.dirty.add(name)
            self.wake.set()

        return changed

    def read_docs(self, rt: Runtime, now: float) -> None:
        """Read the service's cluster documents (cached until a watch says they changed)."""
        self.dirty.discard(rt.name)  # first: a change during the reads marks it again
        self.sync_config(rt)
        rt.lease = self.coord.lease_holder(rt.name)
        rt.target = self.coord.get_target(rt.name)
        rt.epoch = self.coord.current_epoch(rt.name)
        if rt.read_at is None:  # spread the periodic re-reads of services loaded together
            import zlib

            now -= REREAD_EVERY * (zlib.crc32(rt.name.encode()) % 1000) / 1000
        rt.read_at = now

    def view(self, rt: Runtime, alive: frozenset[str], loads: dict[str, float]) -> ServiceView:
        assert rt.service is not None
        defaults = rt.service.config.defaults
        lease = rt.lease
        return ServiceView(
            name=rt.name, nodes=rt.service.config.nodes, orchestrate=defaults["orchestrate"],
            placement=defaults["placement"], target=Target.from_doc(rt.target),
            lease_node=lease.node if lease else None, lease_epoch=lease.epoch if lease else None,
            epoch=rt.epoch, alive=alive, loads=loads, lease_ours=self.lease_ours(rt))

    def lease_ours(self, rt: Runtime) -> bool:
        """Is the lease in the view this session's? (not an earlier agent's of this node)"""
        lease, mine = rt.lease, self.leases.get(rt.name)
        return lease is None or (mine is not None and mine.epoch == lease.epoch)

    def say(self, rt: Runtime, decision: Decision) -> None:
        if decision.sentence != rt.last_sentence:
            log.info(decision.sentence, svc=rt.name, act=str(decision.act))
            rt.last_sentence = decision.sentence

    def carry_out(self, rt: Runtime, view: ServiceView, decision: Decision) -> None:
        from orchestrator.coordination import LeaseHeld

        self.say(rt, decision)
        if decision.act is Act.NOTHING:
            return
        self.dirty.add(rt.name)  # what we do below changes the documents: read them again
        if decision.act is Act.STOP:  # only when another node holds the lease, or nobody
            self.leases.pop(rt.name, None)
            self.stop_resources(rt, decision.sentence)
            return
        if decision.act is Act.STOP_AND_RELEASE:
            self.stop_resources(rt, decision.sentence)
            self.leases.pop(rt.name, None)
            self.coord.release_lease(rt.name)
            return
        if decision.act is Act.ACQUIRE_AND_START:
            try:
                lease = self.coord.acquire_lease(rt.name)
            except LeaseHeld as exc:
                log.info(f"{rt.name}: not taking it, {exc}", svc=rt.name)
                return
            log.info(f"{rt.name}: lease acquired (epoch {lease.epoch})", svc=rt.name)
            self.leases[rt.name] = lease
            self.scheduler.forget_last(rt.name)
            if view.target.node not in (None, self.me):
                # placed here by failover: an old switch request must not pull it back later
                self.coord.update_target(rt.name, lambda t: {**t, "node": None})
        self.start_resources(rt)

    def start_resources(self, rt: Runtime) -> None:
        from orchestrator.actions import lifecycle

        assert rt.service is not None
        refused = self.keeper.guard(rt.name, rt.text or "") if self.keeper else None
        if refused is None:
            with self.heartbeat.busy(ACTION_BUSY):
                code = lifecycle.start(rt.service)
        else:
            code = 1
        if code == 0:
            rt.started = True
            self.scheduler.wake.set()  # tasks due now run now, not at the scheduler's next tick
            log.info(f"{rt.name}: started here", svc=rt.name)
            self.publish(rt, force=True)
            return
        reason = ("start failed on this node (see the service log)" if refused is None
                  else f"not started: {refused}")
        log.error(f"{rt.name}: {reason}; releasing the lease so the next candidate can take it",
                  svc=rt.name)
        if refused is None:
            self.stop_and_unguard(rt)
        rt.started = False
        self.leases.pop(rt.name, None)
        self.coord.update_target(
            rt.name, lambda t: {**t, "failed": {**(t.get("failed") or {}), self.me: reason}})
        self.coord.release_lease(rt.name)
        self.publish(rt, force=True)

    def stop_resources(self, rt: Runtime, sentence: str) -> None:

        if rt.service is None:
            return
        rt.started = False  # first: the scheduler starts nothing more for this service
        self.scheduler.interrupt(rt.name, sentence)  # tasks stop before the resources do
        if self.stop_and_unguard(rt) != 0:
            log.error(f"{rt.name}: stop failed here", svc=rt.name)
        with contextlib.suppress(Exception):
            self.publish(rt, force=True)

    def stop_and_unguard(self, rt: Runtime) -> int:
        """Stop the resources; once stopped the keeper need not guard them any more (after a
        failed stop it still does: it tries again if this agent dies)."""
        from orchestrator.actions import lifecycle

        assert rt.service is not None
        with self.heartbeat.busy(ACTION_BUSY):
            code = lifecycle.stop(rt.service)
        if code == 0 and self.keeper is not None:
            self.keeper.unguard(rt.name)
        return code

    def fence_now(self) -> None:
        self.fence.fenced = True
        held = [rt for rt in self.runtimes.values() if rt.started]
        log.warning(f"node {self.me}: no answer from ZooKeeper for "
                    f"{self.fence.delay:g}s; fencing: stopping "
                    f"{', '.join(rt.name for rt in held) or 'nothing'} before the session can "
                    "expire")
        reason = "fenced: ZooKeeper connection suspended"
        report = self.keeper.fence(reason) if self.keeper is not None else None
        if report is not None:  # the keeper stopped the tasks and resources it guards
            for rt in held:
                if rt.name in (report.get("services") or {}):
                    rt.started = False
        self.scheduler.interrupt_all(reason)
        for rt in held:
            if rt.started:  # not guarded (no keeper): stopped here
                self.stop_resources(rt, f"{rt.name}: fenced")
            else:
                with contextlib.suppress(Exception):
                    self.publish(rt, force=True)

    # ------------------------------------------------------------------ configs, status

    def sync_config(self, rt: Runtime) -> None:
        """Keep the local copy of the service config equal to the cluster's."""
        text = self.coord.get_service_config(rt.name)
        if text is None or text == rt.text:
            return
        rt.text = text
        path = self.node.paths.service_conf(rt.name)
        try:
            cfg = parse_service(text, str(path), rt.name, self.me)
        except ConfigError as exc:
            rt.error = str(exc.problems[0]) if exc.problems else str(exc)
            log.error(f"{rt.name}: config in the cluster is invalid here, ignoring it: "
                      f"{rt.error}", svc=rt.name)
            return
        rt.error = None
        if self.me not in cfg.nodes:
            if path.exists():
                path.unlink()
            rt.service = Service(cfg, self.node) if rt.started else None
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text)
            os.replace(tmp, path)
            log.info(f"{rt.name}: local config written from the cluster", svc=rt.name)
        first = rt.service is None
        rt.service = Service(cfg, self.node)
        if first:
            rt.started = self.locally_started(rt.service)
            if rt.started and self.keeper is not None:  # found up: guarded like any start
                self.keeper.guard(rt.name, text)
        elif rt.started and self.keeper is not None:  # the keeper stops it as configured now
            self.keeper.guard(rt.name, text)
        self.run_store(rt.name)  # records a fence queued for ZooKeeper are sent from it
        self.scheduler.load(rt)

    @staticmethod
    def locally_started(svc: Service) -> bool:
        from orchestrator.resources.instance import instance_status

        return str(instance_status(svc).avail) in ("up", "warn")

    def adopt_orphans(self, names: set[str]) -> None:
        """Local configs of services deleted from the cluster while this agent was down: take
        them into ``runtimes`` (with their local started state) so ``forget`` stops them and
        removes the file."""
        from orchestrator import service as service_mod

        for name in set(service_mod.service_names(self.node)) - names - set(self.runtimes):
            rt = self.runtimes[name] = Runtime(name)
            try:
                rt.service = service_mod.load(self.node, name)
                rt.started = self.locally_started(rt.service)
                if rt.started and self.keeper is not None:
                    self.keeper.guard(name, self.node.paths.service_conf(name).read_text())
            except Exception as exc:  # noqa: BLE001 - an unreadable orphan is still removed
                log.warning(f"{name}: stale local config unreadable ({exc}); removing it",
                            svc=name)

    def forget(self, rt: Runtime) -> None:
        if rt.started:
            self.stop_resources(rt, f"{rt.name}: stopping, deleted from the cluster")
            with contextlib.suppress(Exception):
                self.coord.release_lease(rt.name)
        path = self.node.paths.service_conf(rt.name)
        if path.exists():
            path.unlink()
            log.info(f"{rt.name}: deleted from the cluster, local config removed", svc=rt.name)
        with contextlib.suppress(Exception):
            self.coord.unpublish_instance(rt.name)
        rt.service = None
        self.scheduler.load(rt)
        self.leases.pop(rt.name, None)
        del self.runtimes[rt.name]

    def publish(self, rt: Runtime, force: bool = False) -> Any:
        """Publish this instance's status (ephemeral) for ``print status`` on any node;
        return the status evaluated (None when nothing was published)."""
        now = time.monotonic()
        if not force and now - rt.published_at < STATUS_EVERY:
            return None
        if rt.service is None:
            return None
        from orchestrator.resources.instance import instance_status

        inst = instance_status(rt.service)
        doc = {"node": self.me, "avail": str(inst.avail), "overall": str(inst.overall),
               "started": rt.started,
               "resources": {rid: r.to_dict() for rid, r in inst.resources.items()}}
        # written when it changed, or at least every PUBLISH_UNCHANGED_EVERY: 1,000 services
        # re-writing the same status every 10 s were most of an idle node's CPU
        if (force or doc != rt.published_doc
                or now - rt.written_at >= PUBLISH_UNCHANGED_EVERY):
            self.coord.publish_instance(rt.name, {**doc,
                                                  "updated_at": datetime.now(UTC).isoformat()})
            rt.published_doc, rt.written_at = doc, now
        rt.published_at = now
        return inst

    # ------------------------------------------------------------------ for the scheduler

    def coord_connected(self) -> bool:
        return self.coord is not None and self.coord.connected and self.fence.suspended_since is None

    def lease_of(self, svc: str) -> Any:
        """The lease this session holds for ``svc`` (claims are fenced by it), or None."""
        return self.leases.get(svc) if self.coord_connected() else None

    def run_store(self, svc: str) -> Any:
        """Where the service's run records go; each final one is also pushed to the collector
        (when configured) as it is saved: task runs, skips, missed slots, built-in jobs."""
        rt = self.runtimes.get(svc)
        if rt is None or rt.service is None:
            return None
        if not self.clustered:
            return self._pushing(rt.service.runs)
        store = self.stores.get(svc)
        if store is None:
            from orchestrator.runs.cluster_store import ClusterRunStore

            store = self.stores[svc] = self._pushing(
                ClusterRunStore(self.coord, svc, rt.service.runs))
        return store

    def _pushing(self, store: Any) -> Any:
        courier = self.courier()
        if courier is None:
            return store
        from orchestrator.builtins.push import PushingRunStore

        return PushingRunStore(store, courier)

    def collector(self) -> Any:
        """The node's PushClient, or None when no [collector] url/token is configured."""
        if not hasattr(self, "_collector"):
            from orchestrator.push.client import PushClient

            self._collector = PushClient.from_node_config(self.node)
        return self._collector

    def courier(self) -> Any:
        """The thread delivering queued pushes (None without a collector)."""
        if not hasattr(self, "_courier"):
            client = self.collector()
            self._courier = None
            if client is not None:
                from orchestrator.push.courier import Courier

                self._courier = Courier(client, self.stop_event)
                self._courier.start()
        return self._courier

    def peer_addresses(self) -> dict[str, str]:
        """Where the other nodes are: their published address (cluster) or their name."""
        if self.clustered and self.coord_connected():
            return {n: f.get("address") or n for n, f in self.coord.nodes().items()}
        return {}

    def flush_records(self) -> None:
        """Send run records kept while ZooKeeper was out of reach."""
        if self.clustered and self.coord_connected():
            for store in list(self.stores.values()):
                store.flush()

    def publish_status(self, svc: str) -> Any:
        """Evaluate and publish the instance status; return it (None: unknown service)."""
        rt = self.runtimes.get(svc)
        if rt is None or rt.service is None:
            return None
        if self.clustered:
            return self.publish(rt, force=True)
        from orchestrator.resources.instance import instance_status

        inst = instance_status(rt.service)
        rt.service.state.update("status", "instance", {
            "avail": str(inst.avail), "overall": str(inst.overall),
            "updated_at": datetime.now(UTC).isoformat()})
        return inst

    def _sched_state(self, svc: str) -> dict[str, Any]:
        """Standalone last runs of a service's jobs: read from disk once, then kept here."""
        state = self.sched_states.get(svc)
        if state is None:
            from orchestrator.service import LocalState

            path = self.node.paths.service_var(svc) / "scheduler.json"
            state = self.sched_states[svc] = LocalState(path).read()
        return state

    def local_last(self, svc: str, job: str) -> datetime | None:
        text = self._sched_state(svc).get("last", {}).get(job)
        return datetime.fromisoformat(text) if text else None

    def local_set_last(self, svc: str, job: str, when: datetime) -> None:
        """Written before the run starts (a restart does not run the slot again)."""
        from orchestrator.service import LocalState

        state = self._sched_state(svc)
        state.setdefault("last", {})[job] = when.isoformat()
        LocalState(self.node.paths.service_var(svc) / "scheduler.json").write(state)

    def scan_local(self) -> None:
        """Standalone: follow the services directory (new, changed, removed configs)."""
        from orchestrator import service as service_mod

        # one stat per file (from a single directory scan): a file is re-read only when it
        # changed, so 1,000 idle services cost ~2 ms a second instead of ~35 ms
        try:
            with os.scandir(self.node.paths.services_dir) as it:
                found = {e.name[:-5]: e.stat() for e in it
                         if e.name.endswith(".conf") and not e.name.startswith(".")}
        except OSError:
            found = {}
        names = set(found)
        sigs = self.__dict__.setdefault("conf_sigs", {})
        for gone in set(self.runtimes) - names:
            rt = self.runtimes.pop(gone)
            sigs.pop(gone, None)
            self.sched_states.pop(gone, None)
            rt.service = None
            self.scheduler.load(rt)
        for name in names:
            rt = self.runtimes.setdefault(name, Runtime(name))
            st = found[name]
            sig = (st.st_mtime_ns, st.st_size, st.st_ino)
            if sigs.get(name) == sig:
                continue
            sigs[name] = sig
            path = self.node.paths.service_conf(name)
            try:
                text = path.read_text()
            except OSError:
                continue
            if text == rt.text:
                continue
            rt.text = text
            try:
                rt.service = service_mod.load(self.node, name)
                rt.error = None
            except ConfigError as exc:
                rt.service = None
                rt.error = str(exc.problems[0]) if exc.problems else str(exc)
                log.error(f"{name}: invalid config, not scheduling it: {rt.error}", svc=name)
            rt.started = True
            self.scheduler.load(rt)
