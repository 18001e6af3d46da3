"""The job-kind registry: one entry per kind of job, each saying which jobs a service (or the
node) has of that kind and how one of them runs.

Adding a kind (as ``resource_monitor``, jobs.monitor) is one ``JobKind`` here: its ``jobs`` function
(the jobs a service has of it, each with its config parameter, schedule definition and, when
it never runs, why not) and its runner, which takes its own narrow host Protocol
(``jobs.hosts``) and the ``Firing`` (job, slot, where its record goes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.jobs import monitor, node_kinds, service_kinds, task
from orchestrator.jobs.model import NODE, Job, JobKind

if TYPE_CHECKING:
    from orchestrator.config.node import NodeConfig
    from orchestrator.service import Service

# the order print schedule lists them in: the built-ins, sync, tasks, the resource monitor
# (as om3); then the node's
KINDS: tuple[JobKind, ...] = (*service_kinds.KINDS, task.KIND, monitor.KIND, *node_kinds.KINDS)
_BY_KEY = {(k.owner, k.action): k for k in KINDS}
assert len(_BY_KEY) == len(KINDS), "one kind per (owner, action)"


def kind(owner: str, action: str) -> JobKind:
    return _BY_KEY[(owner, action)]


def kind_of(svc: str, job: Job) -> JobKind:
    """The kind of a job of ``svc`` (NODE: a node job)."""
    return kind("node" if svc == NODE else "service", job.action)


def service_jobs(svc: Service) -> list[Job]:
    """Every job of the service, built-in and task, in a stable order."""
    return [job for k in KINDS if k.owner == "service" for job in k.jobs(svc)]


def node_jobs(node: NodeConfig) -> list[Job]:
    """The node's own jobs (pushasset, the node's compliance_auto)."""
    return [job for k in KINDS if k.owner == "node" for job in k.jobs(node)]
