"""``[fs#N] type = flag`` (om3's resfsflag): a flag file that says the instance is up.

om3 keeps it in /dev/shm/opensvc/<kind>/<name>/<rid>.flag, so a reboot brings the instance
down; here it is /dev/shm/orchestrator/svc/<name>/<rid>.flag under the node's root (with
ORCHESTRATOR_ROOT=/, on the same tmpfs). om3's start also asks the other nodes over ssh
whether the flag is up there; here the cluster's placement (one active instance, fenced)
is what keeps it on one node.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.log import get_logger
from orchestrator.resources.status import Status

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service


def flag_file(service: Service, rc: ResourceConfig) -> Path:
    return (service.node.paths.root / "dev" / "shm" / "orchestrator" / "svc" / service.name
            / f"{rc.rid}.flag")


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str, str | None]:
    path = flag_file(service, rc)
    return (Status.UP if path.exists() else Status.DOWN), str(path), None


def start(service: Service, rc: ResourceConfig,
          on_line: Callable[[str], None] | None = None) -> str | None:
    log = get_logger().bind(svc=service.name, rid=rc.rid)
    path = flag_file(service, rc)
    if path.exists():
        log.info(f"flag file {path} is already installed")
        return None
    log.info(f"install flag file {path}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as exc:
        return f"cannot create the flag file {path}: {exc.strerror}"
    return None


def stop(service: Service, rc: ResourceConfig,
         on_line: Callable[[str], None] | None = None) -> str | None:
    log = get_logger().bind(svc=service.name, rid=rc.rid)
    path = flag_file(service, rc)
    if not path.exists():
        log.info(f"flag file {path} is already uninstalled")
        return None
    log.info(f"uninstall flag file {path}")
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        return f"cannot remove the flag file {path}: {exc.strerror}"
    return None
