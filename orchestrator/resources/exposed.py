"""Devices a resource offers to the others at run time, such as the loop device of a
``[disk#1] type = loop``, referenced as ``{disk#1.exposed_devs[0]}`` in ``[fs#1] dev``
(om3's dereferenceExposedDevices; no index: every device, space-separated).

The value is only known while the resource is up, so config resolution leaves these
references as text, and the driver that uses the value (fs) expands it when it acts or
evaluates its status. Which names are such references: the ``exposes`` of the registry's
drivers. This module imports nothing of the config, so config/service.py can call
``reference_problems`` at validate time (a reference to a missing rid is a config error).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from orchestrator.errors import OrchestratorError
from orchestrator.resources import registry

_REFERENCE = re.compile(r"\{(?P<rid>[A-Za-z0-9_.-]+#[A-Za-z0-9_.-]+)\."
                        r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<index>\d+)\])?\}")


class ExposedError(OrchestratorError):
    """A reference to a device that is not there (its resource is down or missing)."""


def _exposed_names() -> set[str]:
    return {name for spec in registry.DRIVERS.values() for name in spec.exposes}


def _references(text: str) -> list[re.Match[str]]:
    names = _exposed_names()
    return [m for m in _REFERENCE.finditer(text) if m.group("name") in names]


def reference_problems(text: str, drivers: Mapping[str, str]) -> list[str]:
    """Why the exposed-device references in ``text`` cannot work, given the service's
    ``rid -> driver`` (empty: all good)."""
    problems = []
    for m in _references(text):
        rid, name = m.group("rid"), m.group("name")
        if rid not in drivers:
            problems.append(f"no resource {rid} in this service (reference {m.group(0)})")
        elif name not in registry.spec(drivers[rid]).exposes:
            problems.append(f"{rid} exposes no {name} (reference {m.group(0)})")
    return problems


def expand_exposed(service: Any, text: str) -> str:
    """``text`` with each exposed-device reference replaced by the live device; raises
    ExposedError naming the reference when the resource exposes nothing right now."""

    def sub(m: re.Match[str]) -> str:
        rid, name, index = m.group("rid"), m.group("name"), m.group("index")
        rc = service.config.resources.get(rid)
        if rc is None:
            raise ExposedError(f"no resource {rid} in this service")
        if name not in registry.spec(rc.driver).exposes:
            raise ExposedError(f"{rid} exposes no {name}")
        devices = registry.implementation(rc.driver).exposed(service, rc, name)
        if not devices:
            raise ExposedError(f"{rid} exposes no device: it is not up")
        if index is None:
            return " ".join(devices)
        if int(index) >= len(devices):
            raise ExposedError(f"{rid} exposes {len(devices)} device(s), no [{index}]")
        return devices[int(index)]

    return _REFERENCE.sub(lambda m: sub(m) if m.group("name") in _exposed_names()
                          else m.group(0), text)
