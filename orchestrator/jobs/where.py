"""May a job run here, and if not, why: one function for the scheduler (before it claims a
slot) and for ``print schedule`` (its "why not" column), so that they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.jobs.model import Job
    from orchestrator.service import Service


@dataclass(frozen=True, slots=True)
class RunView:
    """A service as the node asking sees it.

    ``here`` is the asking node: the scheduler asks "may it run on this node"; ``print
    schedule`` asks "does it run anywhere" (``here`` None) and shows where (``holder``).
    """

    loaded: bool = True  # its config is usable on this node
    connected: bool = True  # slots can be claimed (standalone: always)
    clustered: bool = False  # a lease decides where its not node-scoped jobs run
    holder: str | None = None  # the node whose instance is active (lease held, started)
    here: str | None = None


NODE_VIEW = RunView()  # node jobs: no lease, no claim, always here


def runnable(view: RunView, job: Job) -> str | None:
    """None when the job may run (here, or anywhere when ``view.here`` is None); else why not."""
    if job.why_not is not None:
        return job.why_not
    if not view.loaded:
        return "the service's config is not usable on this node"
    if not view.connected:
        return "the cluster store cannot be reached (ZooKeeper connection lost or suspended)"
    if view.clustered and job.instance and view.here is not None and view.holder != view.here:
        return "no instance of this flex service is started on this node"
    if view.clustered and not job.node_scoped:
        if view.holder is None:
            return "not the active instance: the service is active on no node"
        if view.here is not None and view.holder != view.here:
            return f"not the active instance: the service is active on {view.holder}"
    return None


def requirements_why(svc: Service, job: Job) -> str | None:
    """A task whose ``run_requires`` is not met now: why (checked when its slot runs)."""
    if not (job.rid and job.rid.startswith("task#")):
        return None
    from orchestrator.taskrun import unmet_requirements

    unmet = unmet_requirements(svc, svc.resource(job.rid))
    return "requirements not met: " + "; ".join(unmet) if unmet else None
