"""What an app's action runs and for how long: ``start = true`` with ``script`` is
``script start``, a command is itself, ``false`` is nothing (the rule is in
config/tables/app.py); each action's timeout falls back to ``timeout``. And the order the
apps start in (stop is the reverse)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.config.tables.app import (
    SCRIPT_ACTIONS,
    order_number,
    script_rule,
    without_script,
)

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

#: timeouts when neither the action's nor ``timeout`` is set (start and stop: none)
DEFAULT_TIMEOUTS = {"check": 30.0, "info": 30.0}


class ScriptMissing(Exception):
    """The launcher script is not there (on a passive node it may live on a filesystem that
    is not mounted): nothing to run, which a stop or a check reads as nothing to do."""


class ScriptUnset(ScriptMissing):
    """``<action> = true`` but ``script`` is not set (om3 reads such a file, validate warns):
    the start fails, the stop runs nothing, the check says undef, as om3 does."""


def script_path(service: Service, rc: ResourceConfig) -> str | None:
    """The ``script`` keyword as a path: a name without ``/`` lives in the service's
    ``<svc>.d`` directory beside its config (v2's ``<name>.d``)."""
    script = rc.get("script")
    if not script:
        return None
    if "/" not in script:
        return str(service.node.paths.services_dir / f"{service.name}.d" / script)
    return script


def command_of(service: Service, rc: ResourceConfig, action: str) -> str | None:
    """The command ``action`` (start, stop, check, info) runs, or None when it runs none.
    Raises ScriptMissing when it is the script and the script does not exist, ScriptUnset
    when ``script`` is not set."""
    value = rc.get(action)
    rule = script_rule(value)
    if rule is None:
        return value
    if not rule:
        return None
    script = script_path(service, rc)
    if script is None:
        raise ScriptUnset(f"{action} = {value} {without_script(action)}")
    if not Path(script).exists():
        raise ScriptMissing(f"script {script} does not exist")
    return f"{shlex.quote(script)} {SCRIPT_ACTIONS[action]}"


def timeout_of(rc: ResourceConfig, action: str) -> float | None:
    """``<action>_timeout``, else ``timeout``, else the action's default (None: no limit)."""
    for keyword in (f"{action}_timeout", "timeout"):
        value = rc.get(keyword)
        if value:
            return float(value)
    return DEFAULT_TIMEOUTS.get(action)


def start_key(rc: ResourceConfig) -> tuple[Any, ...]:
    """om3's app order: apps whose ``start`` is an order number first, by that number, then
    the others by rid. (om3 compares the numbers as text, so there 100 starts before 20;
    here they compare as numbers.)"""
    from orchestrator.service import natural_key

    number = order_number(rc.get("start"))
    return (0, number, natural_key(rc.rid)) if number is not None else (1, 0, natural_key(rc.rid))
