"""The node agent's Prometheus metrics, served at ``/metrics`` when node.conf has
``[metrics] listen = HOST:PORT`` (docs/metrics.md has every name and example alerts).

Counters are fed by the run records the agent saves (``runs.events``): each final record of
a scheduled run counts once, a run by its status, a slot that never ran by its reason
(``reasons.REASONS``). Gauges are read from the agent when Prometheus scrapes: which
services this node holds, whether ZooKeeper answers, how many fences there were. One
registry per agent, so the process-wide default collectors (gc, process) stay out and two
agents in one test process do not mix their counts.

Without ``[metrics] listen`` nothing here is imported: prometheus_client loads only for an
agent that serves metrics.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from orchestrator.log import get_logger
from orchestrator.metrics.reasons import not_run_reason
from orchestrator.runs import events

log = get_logger("metrics")
RAN = ("ok", "failed", "timeout", "interrupted", "aborted")
# seconds: from on time (a tick's jitter) to far behind (a catch-up after a long outage)
SKEW_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600)
DURATION_BUCKETS = (0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 4 * 3600)


class _AgentState:
    """Scrape-time gauges read from the agent (a custom prometheus_client collector)."""

    def __init__(self, agent: Any):
        self.agent = agent

    def collect(self) -> Iterator[Any]:
        agent = self.agent
        active = GaugeMetricFamily("orchestrator_service_active",
                                   "1 where this node runs the service's active instance "
                                   "(holds its lease, or a flex instance slot)",
                                   labels=["service"])
        for name, rt in sorted(list(agent.runtimes.items())):
            if rt.service is None:
                continue
            held = rt.started and (not agent.clustered or agent.lease_of(name) is not None)
            active.add_metric([name], 1.0 if held else 0.0)
        yield active
        yield GaugeMetricFamily("orchestrator_zookeeper_connected",
                                "1 while this node's ZooKeeper session is usable (0 when "
                                "suspended, lost, or standalone)",
                                value=1.0 if agent.clustered and agent.coord_connected() else 0.0)
        yield from _schedule(agent)
        yield CounterMetricFamily("orchestrator_fencing",
                                  "Fences on this node since the agent started: the agent's own "
                                  "(ZooKeeper silent) and its fence keeper's, as reported",
                                  value=getattr(agent.fence, "fences", 0))


def _schedule(agent: Any) -> Iterator[Any]:
    """Each job this node would run: its next slot, and the time between its last slot and
    the next (its period, what "not run for two periods" is measured in)."""
    nxt = GaugeMetricFamily("orchestrator_job_next_run_timestamp_seconds",
                            "Next slot of each job this node runs (Unix time)",
                            labels=["service", "job"])
    period = GaugeMetricFamily("orchestrator_job_period_seconds",
                               "Time from a job's last slot to its next one",
                               labels=["service", "job"])
    scheduler = getattr(agent, "scheduler", None)
    if scheduler is not None:
        with scheduler.lock:
            entries = list(scheduler.entries.values())
        for entry in entries:
            if entry.due is None:
                continue  # not ours to run now (not the active node, not loaded)
            nxt.add_metric([entry.svc, entry.key], entry.due.timestamp())
            if entry.last is not None and entry.due > entry.last:
                period.add_metric([entry.svc, entry.key],
                                  (entry.due - entry.last).total_seconds())
    yield nxt
    yield period


class DaemonMetrics:
    def __init__(self, agent: Any):
        self.node = agent.me
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.runs = Counter("orchestrator_job_runs", "Scheduled runs, by how they ended",
                            ["service", "job", "status"], registry=r)
        self.not_run = Counter("orchestrator_job_not_run",
                               "Scheduled slots that did not run (skipped, refused, missed), "
                               "by reason", ["service", "job", "reason"], registry=r)
        self.skew = Histogram("orchestrator_job_skew_seconds",
                              "Start of a scheduled run minus its slot", ["service", "job"],
                              buckets=SKEW_BUCKETS, registry=r)
        self.duration = Histogram("orchestrator_job_duration_seconds",
                                  "Duration of scheduled runs", ["service", "job"],
                                  buckets=DURATION_BUCKETS, registry=r)
        self.last_ok = Gauge("orchestrator_job_last_success_timestamp_seconds",
                             "End of the job's last ok run on this node (Unix time)",
                             ["service", "job"], registry=r)
        r.register(_AgentState(agent))
        self.server: Any = None

    def observe(self, record: Any) -> None:
        """Count one saved final record (this node's scheduled runs only)."""
        if record.origin != "scheduler" or record.node != self.node:
            return
        service, job, status = record.service, record.rid, str(record.status)
        reason = not_run_reason(record)
        if reason is not None:
            self.not_run.labels(service, job, reason).inc()
            return
        if status not in RAN:
            return
        self.runs.labels(service, job, status).inc()
        if status == "ok" and record.ended_at:
            self.last_ok.labels(service, job).set(record.ended_at.timestamp())
        if record.started_at and record.scheduled_at:
            skew = (record.started_at - record.scheduled_at).total_seconds()
            self.skew.labels(service, job).observe(max(0.0, skew))
        if record.started_at and record.ended_at:
            took = (record.ended_at - record.started_at).total_seconds()
            self.duration.labels(service, job).observe(max(0.0, took))

    def serve(self, listen: str) -> None:
        from prometheus_client import start_http_server

        host, _, port = listen.rpartition(":")
        host = host.strip("[]") or "0.0.0.0"
        started = start_http_server(int(port), addr=host, registry=self.registry)
        self.server = started[0] if isinstance(started, tuple) else None

    def close(self) -> None:
        events.stop_listening(self.observe)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def start(agent: Any) -> DaemonMetrics | None:
    """Serve the agent's metrics if node.conf asks for it; None (and nothing imported of
    prometheus_client by the caller) when it does not. A port that cannot be bound is
    logged; the agent runs on without metrics."""
    listen = agent.node.get("metrics", "listen")
    if not listen:
        return None
    metrics = DaemonMetrics(agent)
    try:
        metrics.serve(listen)
    except OSError as exc:
        log.error(f"node {agent.me}: cannot serve metrics on {listen}: "
                  f"{exc.strerror or exc}; running without them")
        return None
    events.listen(metrics.observe)
    log.info(f"node {agent.me}: metrics at http://{listen}/metrics")
    return metrics
