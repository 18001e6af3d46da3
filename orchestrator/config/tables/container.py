"""Keywords of ``[container#N]`` sections (om3's container.docker, container.podman and
container.oci drivers), and the checks that span keywords or resources."""

from __future__ import annotations

from orchestrator.config import types as t
from orchestrator.config.keyword import RESOURCE_COMMON, Keyword
from orchestrator.config.keyword import kw as _kw
from orchestrator.config.tables import container_common
from orchestrator.resources.registry import DRIVERS

ROWS: list[Keyword] = [
    _kw("container", "type", t.choice(*DRIVERS["container"].types), "oci",
        "The engine: docker, podman, or oci (docker when a genuine Docker answers, else "
        "podman, else docker: om3 picks docker when it is installed; a Docker client whose "
        "engine does not answer is passed over here)."),
    *container_common.rows("container"),
    _kw("container", "standby", t.to_bool, False,
        "Started on passive nodes too; its status reads stdby up / stdby down."),
    *[_kw("container", n, c, d, doc) for n, c, d, doc in RESOURCE_COMMON],
]

# (section kind, check): within one section (config.keywords.section_checks) ...
CHECKS = [("container", container_common.check_container), ("task", container_common.check_task)]
# ... and of one resource against the others of its service (service_checks)
SERVICE_CHECKS = [("container", container_common.check_namespaces),
                  ("task", container_common.check_namespaces)]
