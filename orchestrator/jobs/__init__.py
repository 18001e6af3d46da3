"""Jobs: what the daemon's scheduler runs and ``print schedule`` shows.

* ``model``: a ``Job`` (schedule, misfire policy, node-scoped, why not), a ``Firing``
  (one claimed slot), a ``JobKind``;
* ``registry``: the kinds (``service_kinds``, ``task``, ``node_kinds``) and the jobs a
  service or the node has;
* ``where``: ``runnable``, may a job run here, and if not why (scheduler and views);
* ``table``: the tables ``print schedule`` shows;
* ``hosts``: what the runners need from the agent (Protocols).
"""

from orchestrator.jobs.model import NODE, Firing, Job, JobKind, ScheduleEntry, job_schedule
from orchestrator.jobs.registry import KINDS, kind, kind_of, node_jobs, service_jobs
from orchestrator.jobs.table import node_schedule_table, schedule_table
from orchestrator.jobs.where import NODE_VIEW, RunView, runnable

__all__ = ["KINDS", "NODE", "NODE_VIEW", "Firing", "Job", "JobKind", "RunView",
           "ScheduleEntry", "job_schedule", "kind", "kind_of", "node_jobs", "node_schedule_table",
           "runnable", "schedule_table", "service_jobs"]
