"""Talking to a container engine's CLI (docker or podman): which one, and its calls.

``oci`` picks the engine as om3 does (drivers/rescontaineroci): docker when ``docker
--version`` says Docker (podman-docker's ``docker`` says podman), else podman. One
difference: a Docker client whose engine does not answer (a client-only install) is
passed over for podman when podman is there, since om3's choice would then fail every
start. The engine's own configuration comes from the environment of the process calling it
(``CONTAINERS_CONF``, ``DOCKER_HOST``, ...): :func:`engine_environment` hands those on to a
task's container client, whose environment is otherwise rebuilt from scratch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from typing import Any

from orchestrator.execution.environment import BASE_PATH
from orchestrator.resources.listing import Listing

# variables that configure an engine CLI; everything else of the caller's stays out of a
# task's client (see execution.environment)
ENGINE_VARIABLES = (
    "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "CONTAINERS_REGISTRIES_CONF",
    "REGISTRY_AUTH_FILE", "CONTAINER_HOST", "CONTAINER_CONNECTION", "XDG_RUNTIME_DIR",
    "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)
_NO_SUCH = re.compile(r"no such (container|object)|no container with name",
                      re.IGNORECASE)
PROBE_TIMEOUT = 5.0
_DOCKER_ANSWERS_TTL = 30.0


class EngineMissing(Exception):
    """No engine binary for this type: a failed start, a down status, with this reason."""


class EngineError(Exception):
    """An engine call failed in a way that says nothing about the container."""


@dataclass(frozen=True)
class Engine:
    kind: str  # "docker" | "podman"
    path: str

    def __str__(self) -> str:
        return self.kind


@dataclass(frozen=True)
class Called:
    argv: tuple[str, ...]
    code: int | None  # None: timed out (the client was killed)
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    def why(self) -> str:
        """The last line the engine wrote on stderr (or stdout), or its exit code."""
        if self.code is None:
            return "timed out"
        lines = [line for line in (self.err or self.out).splitlines() if line.strip()
                 and not line.startswith("Emulate Docker CLI")]
        return lines[-1].strip() if lines else f"exit code {self.code}"


def engine_environment() -> dict[str, str]:
    """The caller's engine configuration, for a process whose environment is rebuilt."""
    return {name: os.environ[name] for name in ENGINE_VARIABLES if os.environ.get(name)}


def _which(name: str) -> str | None:
    return shutil.which(name, path=os.environ.get("PATH") or BASE_PATH)


_lock = threading.Lock()
_genuine: dict[str, bool] = {}
_answers: Listing[bool] = Listing(_DOCKER_ANSWERS_TTL)


def _is_genuine_docker(path: str) -> bool:
    """om3's test: ``docker --version`` names Docker (podman-docker's names podman)."""
    with _lock:
        known = _genuine.get(path)
    if known is None:
        result = call(Engine("docker", path), ["--version"], PROBE_TIMEOUT)
        known = result.ok and "docker" in result.out.lower() and "podman" not in \
            result.out.lower()
        with _lock:
            _genuine[path] = known
    return known


def _docker_answers(path: str) -> bool:
    """Whether the Docker engine behind this client answers (kept a few seconds)."""
    return _answers.get(path, lambda: call(Engine("docker", path), [
        "version", "--format", "{{.Server.Version}}"], PROBE_TIMEOUT).ok)


def resolve(kind: str) -> Engine:
    """The engine of a container type (docker, podman, oci); EngineMissing if none."""
    if kind in ("docker", "podman"):
        path = _which(kind)
        if path is None:
            raise EngineMissing(f"no container engine: {kind} is not installed (no {kind} "
                                "command in PATH)")
        return Engine(kind, path)
    docker, podman = _which("docker"), _which("podman")
    genuine = docker is not None and _is_genuine_docker(docker)
    if genuine and _docker_answers(docker):
        return Engine("docker", docker)
    if podman is not None:
        return Engine("podman", podman)
    if genuine:
        return Engine("docker", docker)
    if docker is not None:  # a docker that is not Docker (podman-docker) without podman
        return Engine("docker", docker)
    raise EngineMissing("no container engine: neither docker nor podman is installed (type "
                        "oci needs one of them in PATH)")


def call(engine: Engine, args: list[str], timeout: float | None) -> Called:
    """Run ``engine args`` to its end (killed at ``timeout``); stdout and stderr apart."""
    argv = (engine.path, *args)
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        return Called(argv, None, out, "")
    except OSError as exc:
        return Called(argv, 127, "", f"cannot run {engine.path}: {exc.strerror}")
    return Called(argv, proc.returncode, proc.stdout, proc.stderr)


def inspect(engine: Engine, name: str, timeout: float = 30.0) -> dict[str, Any] | None:
    """The container's inspect data; None when there is no such container."""
    result = call(engine, ["container", "inspect", name], timeout)
    if not result.ok:
        if result.code is not None and _NO_SUCH.search(result.err + result.out):
            return None
        raise EngineError(f"{engine} container inspect {name}: {result.why()}")
    try:
        data = json.loads(result.out)
    except ValueError as exc:
        raise EngineError(f"{engine} container inspect {name}: unreadable output ({exc})") \
            from None
    if isinstance(data, list):
        return data[0] if data else None
    return data if isinstance(data, dict) else None


# one ``ps -a`` serves every container's status for 2 s (resources.listing)
_LISTINGS: Listing[dict[str, tuple[bool, str, int | None]]] = Listing(2.0)
_EXITED = re.compile(r"^exited \((-?\d+)\)", re.IGNORECASE)


def container_state(engine: Engine, name: str, timeout: float = 30.0
                    ) -> tuple[bool, str, int | None] | None:
    """(running, status word, exit code) of container ``name``, None when there is none:
    from one ``ps -a`` of every container, shared by the callers of the next few seconds
    (:func:`forget_listings` drops it when this process starts or stops one)."""
    return _LISTINGS.get(engine.path, lambda: _list_states(engine, timeout)).get(name)


def forget_listings() -> None:
    """Drop the listings: this process started or stopped a container."""
    _LISTINGS.forget()


def _list_states(engine: Engine, timeout: float) -> dict[str, tuple[bool, str, int | None]]:
    """Every container's state by name. ``ps -a --format json``: podman prints one array
    (its names a list, its exit code a field), a Docker CLI one object per line (its names
    joined by commas, the exit code only in its status text)."""
    result = call(engine, ["ps", "-a", "--no-trunc", "--format", "json"], timeout)
    if not result.ok:
        raise EngineError(f"{engine} ps -a: {result.why()}")
    text = "\n".join(line for line in result.out.splitlines()
                     if not line.startswith("Emulate Docker CLI"))
    try:
        items = json.loads(text) if text.strip() else []
    except ValueError:
        try:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise EngineError(f"{engine} ps -a: unreadable output ({exc})") from None
    states: dict[str, tuple[bool, str, int | None]] = {}
    for item in items if isinstance(items, list) else [items]:
        if not isinstance(item, dict):
            continue
        names = item.get("Names") or []
        word = str(item.get("State") or "unknown").lower()
        # podman says stopped between the exit and its clean-up, exited after: one word
        word = "exited" if word == "stopped" else word
        code = item.get("ExitCode")
        if not isinstance(code, int):
            exited = _EXITED.match(str(item.get("Status") or ""))
            code = int(exited.group(1)) if exited else None
        for name in names.split(",") if isinstance(names, str) else names:
            states[str(name).strip()] = (word == "running", word, code)
    return states


def state(data: dict[str, Any]) -> tuple[bool, str, int | None]:
    """(running, status word, exit code) of inspect data."""
    st = data.get("State") or {}
    running = bool(st.get("Running"))
    word = str(st.get("Status") or ("running" if running else "unknown")).lower()
    # podman says stopped between the exit and its clean-up, exited after: one word
    return running, "exited" if word == "stopped" else word, st.get("ExitCode")


def has_image(engine: Engine, image: str, timeout: float = 30.0) -> bool:
    return call(engine, ["image", "inspect", "--format", "{{.Id}}", image], timeout).ok


def speaks_podman(engine: Engine) -> bool:
    """podman, or a ``docker`` that is podman (podman-docker)."""
    return engine.kind == "podman" or not _is_genuine_docker(engine.path)


def remove(engine: Engine, name: str, timeout: float = 60.0) -> Called:
    """Kill (SIGKILL) and remove the container; no error when it is not there. podman's
    ``rm -f`` would first wait the container's stop timeout (10 s): ``-t 0``; docker's
    kills at once and has no ``-t``."""
    args = ["container", "rm", "-f", *(["-t", "0"] if speaks_podman(engine) else []), name]
    return call(engine, args, timeout)


def gone(engine: Engine, name: str) -> bool:
    """True when the engine says there is no such container."""
    try:
        return inspect(engine, name) is None
    except EngineError:
        return False
