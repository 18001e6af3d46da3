"""Every resource driver, declared once: what its sections are called, which of its
resources count in the instance's avail, whether (and in what order) it starts and stops
with the service, and the module that implements it.

This module imports nothing of the project, so the keyword table (config), the status
merge (resources.instance), the lifecycle (actions.lifecycle) and the pushes all derive
from it without an import running back up. A driver module implements
``status(service, rc) -> (Status, label, reason)`` and, when it takes part in the
lifecycle, ``start(service, rc, on_line=None)`` and ``stop(service, rc, on_line=None)``
returning an error sentence or None. To add a driver: write its module, add one row here,
add its keywords to config/keywords.py.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import NamedTuple


class DriverSpec(NamedTuple):
    group: str  # the section prefix: [app#0] -> "app"
    module: str  # the implementation
    avail: bool  # its resources (unless optional or disabled) make the instance's avail
    lifecycle: bool  # started with the service, stopped with it in reverse order
    start_order: int = 100  # lifecycle order between groups (OpenSVC: ip, disk, fs, ... app)
    types: tuple[str, ...] = ()  # values of its ``type`` keyword ("" : none)
    # names other resources may reference at run time: {disk#1.exposed_devs[0]}
    exposes: tuple[str, ...] = ()


DRIVERS: dict[str, DriverSpec] = {spec.group: spec for spec in (
    DriverSpec("ip", "orchestrator.resources.ip", avail=True, lifecycle=True, start_order=10,
               types=("host",)),
    DriverSpec("disk", "orchestrator.resources.disk", avail=True, lifecycle=True, start_order=20,
               types=("loop",), exposes=("exposed_devs",)),
    DriverSpec("fs", "orchestrator.resources.fs", avail=True, lifecycle=True, start_order=30,
               types=("ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "bind", "none", "flag")),
    DriverSpec("app", "orchestrator.resources.app", avail=True, lifecycle=True, start_order=50,
               types=("forking", "simple")),
    DriverSpec("container", "orchestrator.resources.container", avail=True, lifecycle=True,
               start_order=40, types=("docker", "podman", "oci")),
    DriverSpec("task", "orchestrator.resources.task", avail=False, lifecycle=False),
    DriverSpec("sync", "orchestrator.resources.sync", avail=False, lifecycle=False,
               types=("rsync",)),
)}


def spec(group: str) -> DriverSpec:
    """The driver of a section group; KeyError for an unknown one."""
    return DRIVERS[group]


_MODULES: dict[str, ModuleType] = {}


def implementation(group: str) -> ModuleType:
    """The module implementing ``group`` (imported when first needed; then a dict lookup:
    the daemon asks for 1,000 services' statuses every 10 s)."""
    module = _MODULES.get(group)
    if module is None:
        module = _MODULES[group] = importlib.import_module(DRIVERS[group].module)
    return module


def lifecycle_groups() -> list[str]:
    """Groups started with the service, in start order (stop is the reverse)."""
    return [s.group for s in sorted(DRIVERS.values(), key=lambda s: (s.start_order, s.group))
            if s.lifecycle]
