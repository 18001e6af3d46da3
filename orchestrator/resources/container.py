"""The ``container`` driver (types docker, podman, oci): a container started with the
service, as om3's rescontainerocibase does it.

start runs it detached (``run --detach``), or starts the stopped container of the same name
when ``rm`` is off, and succeeds at once when it is already running; stop stops it (``stop
-t stop_timeout``) and removes it when ``rm`` is set (or ``detach`` is off). The status comes
from the engine's list of containers (one ``ps -a`` serves every container's status for a
couple of seconds): up when running, down when absent or exited. Everything works
from the config alone (the fence keeper stops it so): the container is found by its name.
Engine commands and their output go to the resource's log (and to ``on_line``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from orchestrator.resources import container_engine as engine_mod
from orchestrator.resources import stopping
from orchestrator.resources.commands import resource_log
from orchestrator.resources.container_args import (
    ArgsError,
    container_environment,
    container_name,
    ensure_mount_sources,
    run_args,
)
from orchestrator.resources.container_engine import Engine, EngineError, EngineMissing
from orchestrator.resources.status import Status, as_standby

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

OnLine = Callable[[str], None] | None
INSPECT_TIMEOUT = 30.0
GRACE = 30.0  # added to an engine stop's own -t before its client is given up


def _label(rc: ResourceConfig, engine: Engine | None) -> str:
    kind = rc["type"] if engine is None or rc["type"] == engine.kind \
        else f"{rc['type']}={engine.kind}"
    return f"container {kind} {rc['image']}" + (" standby" if rc["standby"] else "")


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str, str | None]:
    name = container_name(service, rc)
    try:
        engine = engine_mod.resolve(rc["type"])
    except EngineMissing as exc:
        return as_standby(rc["standby"], Status.DOWN), _label(rc, None), str(exc)
    label = _label(rc, engine)
    if not rc["detach"]:  # an init container: it ran at start and is gone
        return Status.NA, label, None
    try:
        found = engine_mod.container_state(engine, name, INSPECT_TIMEOUT)
    except EngineError as exc:
        return Status.WARN, label, str(exc)
    if found is None:
        return as_standby(rc["standby"], Status.DOWN), label, f"no container {name}"
    running, word, code = found
    if running:
        return as_standby(rc["standby"], Status.UP), label, None
    reason = f"container {name} is {word}" + (f" (exit code {code})" if code is not None
                                              and word == "exited" else "")
    return as_standby(rc["standby"], Status.DOWN), label, reason


class _Log:
    """Engine commands and their output, in the resource's log and to ``on_line``."""

    def __init__(self, service: Service, rc: ResourceConfig, on_line: OnLine):
        self.path = resource_log(service, rc)
        self.on_line = on_line

    def line(self, text: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {text}\n")
        if self.on_line is not None:
            self.on_line(text)

    def call(self, engine: Engine, args: list[str], timeout: float | None
             ) -> engine_mod.Called:
        self.line(f"[orchestrator] {engine} {shlex.join(args)}")
        result = engine_mod.call(engine, args, timeout)
        for text in (result.out + result.err).splitlines():
            if text.strip():
                self.line(text)
        if result.code is None:
            self.line(f"[orchestrator] timed out after {timeout:g}s, killed")
        return result


def _pull_if_needed(rc: ResourceConfig, engine: Engine, log: _Log) -> str | None:
    """om3's image_pull_policy: always pulls; once pulls only a missing image."""
    image = rc["image"]
    if rc["image_pull_policy"] != "always" and engine_mod.has_image(engine, image):
        return None
    result = log.call(engine, ["image", "pull", image], rc["pull_timeout"])
    if not result.ok:
        return f"cannot pull image {image}: {result.why()}"
    return None


def start(service: Service, rc: ResourceConfig, on_line: OnLine = None) -> str | None:
    try:
        return _start(service, rc, on_line)
    finally:  # the status asked next must see what this start did
        engine_mod.forget_listings()


def _start(service: Service, rc: ResourceConfig, on_line: OnLine) -> str | None:
    name = container_name(service, rc)
    log = _Log(service, rc, on_line)
    try:
        engine = engine_mod.resolve(rc["type"])
        data = engine_mod.inspect(engine, name, INSPECT_TIMEOUT)
    except (EngineMissing, EngineError) as exc:
        return str(exc)
    if data is not None:
        running, word, _code = engine_mod.state(data)
        if running:
            log.line(f"[orchestrator] container {name} already running")
            return None
        if rc["rm"] or not rc["detach"]:  # om3: a leftover of a removable one goes first
            engine_mod.remove(engine, name)
        else:
            return _start_existing(rc, engine, name, log, word)
    error = _pull_if_needed(rc, engine, log)
    if error:
        return error
    try:
        ensure_mount_sources(rc)
        # an init container is removed after its run (--rm with podman; a Docker CLI on
        # podman's API reports exit 0 with --rm, so docker's is removed by hand)
        args = run_args(service, rc, name, engine=engine.kind, detach=rc["detach"],
                        remove=not rc["detach"] and engine.kind == "podman",
                        environment=container_environment(service, rc))
    except (ArgsError, OSError) as exc:
        return f"cannot run container {name}: {exc}"
    result = log.call(engine, args, rc["start_timeout"])
    if result.code is None:
        engine_mod.remove(engine, name)  # whatever the killed client left half made
        return f"container {name}: run timed out after {rc['start_timeout']:g}s " \
               "(start_timeout)"
    if not rc["detach"]:
        engine_mod.remove(engine, name)
        return None if result.ok else f"container {name} exited with code {result.code}"
    if not result.ok:
        try:  # a start beside ours (the resource monitor's, another svcmgr) got the name
            again = engine_mod.inspect(engine, name, INSPECT_TIMEOUT)
        except EngineError:
            again = None
        if again is not None and engine_mod.state(again)[0]:
            log.line(f"[orchestrator] container {name} started meanwhile by another start")
            return None
        return f"cannot run container {name}: {result.why()}"
    return _check_running(engine, name, log)


def _start_existing(rc: ResourceConfig, engine: Engine, name: str, log: _Log,
                    word: str) -> str | None:
    """A stopped container kept (rm off) is started again, as om3's findAndStart."""
    if word in ("initialized", "configured"):  # om3: fixed with a stop first
        log.call(engine, ["container", "stop", name], rc["stop_timeout"] + GRACE)
    result = log.call(engine, ["container", "start", name], rc["start_timeout"])
    if result.code is None:
        return f"container {name}: start timed out after {rc['start_timeout']:g}s " \
               "(start_timeout)"
    if not result.ok:
        return f"cannot start container {name}: {result.why()}"
    return _check_running(engine, name, log)


def _check_running(engine: Engine, name: str, log: _Log) -> str | None:
    try:
        data = engine_mod.inspect(engine, name, INSPECT_TIMEOUT)
    except EngineError as exc:
        return f"container {name} started, then {exc}"
    if data is None:
        return f"container {name} is gone right after its start"
    running, word, code = engine_mod.state(data)
    if running:
        return None
    tail = engine_mod.call(engine, ["container", "logs", "--tail", "5", name], 10.0)
    last = [line for line in (tail.out + tail.err).splitlines() if line.strip()]
    for line in last:
        log.line(line)
    return f"container {name} is {word} right after its start (exit code {code})" + (
        f": {last[-1].strip()}" if last else "")


def stop(service: Service, rc: ResourceConfig, on_line: OnLine = None) -> str | None:
    try:
        return _stop(service, rc, on_line)
    finally:
        engine_mod.forget_listings()


def _stop(service: Service, rc: ResourceConfig, on_line: OnLine) -> str | None:
    name = container_name(service, rc)
    log = _Log(service, rc, on_line)
    try:
        engine = engine_mod.resolve(rc["type"])
    except EngineMissing as exc:  # no engine, no container: nothing runs
        log.line(f"[orchestrator] {exc}: nothing to stop")
        return None
    try:
        data = engine_mod.inspect(engine, name, INSPECT_TIMEOUT)
    except EngineError as exc:
        return str(exc)
    if data is None:
        log.line(f"[orchestrator] container {name} already stopped (absent)")
        return None
    running, _word, _code = engine_mod.state(data)
    if running:
        wait = stopping.grace(rc["stop_timeout"])  # fencing: killed at once
        result = log.call(engine, ["container", "stop", "-t", f"{wait:.0f}", name], wait + GRACE)
        if not result.ok:
            try:
                again = engine_mod.inspect(engine, name, INSPECT_TIMEOUT)
            except EngineError as exc:
                return f"cannot stop container {name}: {result.why()}; then {exc}"
            if again is not None and engine_mod.state(again)[0]:
                return f"cannot stop container {name}: {result.why()}"
    if rc["rm"] or not rc["detach"]:
        result = log.call(engine, ["container", "rm", "-f", name], 60.0)
        if not result.ok and not engine_mod.gone(engine, name):
            return f"cannot remove container {name}: {result.why()}"
    return None
