"""The container keywords ``[container#N]`` sections and container tasks share (OpenSVC
om3's rescontainerocibase and restaskocibase manifests, with v2's names as aliases).

``rows(section)`` gives them as rows of either section; a task already has its own
``command``, ``user``, ``cwd`` and ``environment`` (they apply inside the container when the
task's ``type`` is a container engine), so :data:`TASK_OWN` lists what the task table skips.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.config import types as t
from orchestrator.config.keyword import Keyword
from orchestrator.config.keyword import kw as _kw

ENGINE_TYPES = ("docker", "podman", "oci")
TASK_TYPE_DOC = (
    "host: the command runs on this node. docker, podman, oci (docker when a genuine Docker "
    "answers, else podman): it runs in a container of image, one per run (docs/containers.md);"
    " command, user (group as user:group), cwd, environment and limit_* (--ulimit) apply "
    "inside it, umask does not, and the container keywords below apply. Hooks (pre_run, "
    "post_run, on_error ...) run on the host.")
TASK_OWN = frozenset({"command", "user", "cwd", "environment"})
# and what a task has no use for: its timeout bounds the whole run
TASK_SKIPS = TASK_OWN | {"detach", "start_timeout", "stop_timeout", "log_outputs"}
# a value naming another resource of the service: container#0, task#x
RID_VALUE = re.compile(r"^[a-z]+#[A-Za-z0-9_.-]+$")


def _utsns(text: str) -> str | None:
    value = text.strip()
    if value not in ("", "host"):
        raise ValueError("expected host, or nothing")
    return value or None


_NO_CFG = "OpenSVC cfg objects do not exist here; set the values with environment"
_NO_SEC = "OpenSVC sec objects do not exist here; set the values with environment"
_NO_CREDS = ("there are no secret objects here; log the node in with podman login or "
             "docker login")
_LOGGED = "the engine commands' output always goes to the resource's log"
_NO_ENCAP = "nothing runs inside containers on the orchestrator's behalf"
_NS_DOC = ("a rid of this service (container#0) shares that container's (--{opt} "
           "container:<its name>); empty leaves the engine's default; host and other values "
           "pass to --{opt} as they are.")

# (name, converter, default, doc, extra) in the order of om3's manifest
_ROWS: list[tuple[str, Callable[[str], Any], Any, str, dict[str, Any]]] = [
    ("name", t.to_string, None,
     "The container's name. Default: <service>.<rid with # as .> (svc1.container.0), as om3 "
     "names it (om3 prefixes <namespace>.. outside the root namespace; there are no "
     "namespaces here). A task's container is named <name>.<run id>: each run has its own, "
     "so a killed run's container is found and removed, and parallel runs never collide.",
     {}),
    ("hostname", t.to_string, None, "The container's hostname (--hostname).", {}),
    ("dns_search", t.to_list, (),
     "DNS search domains (--dns-search), passed only with a private network namespace "
     "other than none.", {}),
    ("image", t.to_string, None,
     "The image to run the container from (om3's default is a pause image from a "
     "registry; here it is required).", {"aliases": ("run_image",)}),
    ("image_pull_policy", t.choice("once", "always"), "once",
     "once: pull only when the image is not in the engine's local storage (a local image "
     "never asks a registry); always: pull before each start or run.", {}),
    ("cwd", t.to_string, None, "Working directory of the command in the container (--workdir).",
     {}),
    ("command", t.to_shlex_list, (),
     "The container's command and arguments, split shell-style (no shell runs them unless "
     "it is sh -c '...'). Default: the image's.", {"aliases": ("run_command",)}),
    ("run_args", t.to_shlex_list, (),
     "Extra arguments of the engine's run command (volumes, ports, --ulimit ...); the "
     "options the keywords above set (--name, --hostname, --net ...) are dropped from it.",
     {}),
    ("entrypoint", t.to_shlex_list, (),
     "The container's entrypoint (--entrypoint, its first word; arguments go in command).",
     {}),
    ("detach", t.to_bool, True,
     "Run in the background (a service container). false: an init container, run to its "
     "end within start_timeout at start, status n/a, removed (rm implied).", {}),
    ("rm", t.to_bool, False,
     "Remove the container when the resource stops. A task's container is always removed "
     "after its run, whatever rm says.", {}),
    ("read_only", t.choice("true", "false"), None,
     "Mount the container's root filesystem read-only (--read-only). Unset: the engine's "
     "default.", {}),
    ("privileged", t.to_bool, False, "Run privileged (--privileged).", {}),
    ("init", t.to_bool, False,
     "Run an init as PID 1 that forwards signals and reaps zombies (--init; podman needs "
     "catatonit). om3 documents true but does not pass --init, so the image's entrypoint "
     "is PID 1 there; the default here does the same.", {}),
    ("interactive", t.to_bool, False, "Keep stdin open (--interactive).", {}),
    ("tty", t.to_bool, False, "Allocate a pseudo-tty (--tty).", {}),
    ("volume_mounts", t.to_shlex_list, (),
     "<host dir>:<container path>[:<options>] ... (--volume each; options default rw). A "
     "missing host directory is created. A source that is not an absolute path (an "
     "OpenSVC volume object's name) is refused: there are no volume objects here.", {}),
    ("sysctl", t.to_shlex_list, (), "Namespaced kernel tunables, KEY=VALUE ... (--sysctl each).",
     {}),
    ("environment", t.to_environment, {},
     "Variables of the container, shlex list of VAR=value (-e each); OPENSVC_RID, "
     "OPENSVC_SVCNAME and ORCHESTRATOR_* are set too.", {}),
    ("configs_environment", t.to_shlex_list, (),
     "VAR=<cfg>/<key> ...", {"noop": _NO_CFG}),
    ("secrets_environment", t.to_shlex_list, (),
     "VAR=<sec>/<key> ...", {"noop": _NO_SEC}),
    ("devices", t.to_shlex_list, (), "<host dev>:<container dev> ... (--device each).", {}),
    ("netns", t.to_string, None,
     "The network namespace. Empty or none: a private one with a loopback only (--net "
     "none, as om3 does for docker; never the engine's default bridge), which other "
     "containers can share; host: the host's; a rid (container#0): that container's "
     "(--net container:<its name>); other values (a network the admin created) pass to "
     "--net. A --net/--network in run_args wins over an empty netns.",
     {"aliases": ("net",)}),
    ("user", t.to_string, None, "The user (or user:group) of the container's command (--user).",
     {}),
    ("pidns", t.to_string, None, "The PID namespace (host, ...): " + _NS_DOC.format(opt="pid"),
     {}),
    ("ipcns", t.to_string, None,
     "The IPC namespace (none, private, shareable, host): " + _NS_DOC.format(opt="ipc"), {}),
    ("utsns", _utsns, None, "The UTS namespace: empty (a private one) or host (--uts host).",
     {}),
    ("userns", t.to_string, None,
     "The user namespace (--userns): host, a podman mode (auto, keep-id, nomap, ns:PATH), "
     "or a rid (container#0) to share that container's; docker accepts host only.", {}),
    ("registry_creds", t.to_string, None,
     "The OpenSVC secret object holding a registry login.", {"noop": _NO_CREDS}),
    ("pull_timeout", t.to_duration, 120.0, "How long an image pull may take.", {}),
    ("start_timeout", t.to_duration, 5.0,
     "How long the engine's run (or start) may take before the start fails.", {}),
    ("stop_timeout", t.to_duration, 10.0,
     "The grace of the engine's stop (-t): SIGTERM, then SIGKILL after it.", {}),
    ("log_outputs", t.to_bool, False,
     "Log the engine commands' output.", {"noop": _LOGGED}),
    ("osvc_root_path", t.to_string, None,
     "Where OpenSVC is installed inside the container.", {"noop": _NO_ENCAP}),
    ("guest_os", t.choice("unix", "windows"), "unix",
     "The container's operating system.", {"aliases": ("guestos",), "noop": _NO_ENCAP}),
]


def rows(section: str, *, task: bool = False) -> list[Keyword]:
    """The container keywords as rows of ``section`` (a task skips TASK_SKIPS)."""
    skip = TASK_SKIPS if task else set()
    found = []
    for name, convert, default, doc, extra in _ROWS:
        if name in skip:
            continue
        if name == "image":  # a task's need depends on its type: check_task
            extra = {**extra, "required": not task}
            if task:
                doc = "The image of the task's container (required with a container type)."
        found.append(_kw(section, name, convert, default, doc, **extra))
    return found


# om3's task host takes these too (resapp's configs/secrets environment): no effect either way
_HOST_TOO = {"configs_environment", "secrets_environment"}
CONTAINER_ONLY = tuple(name for name, *_ in _ROWS if name not in TASK_SKIPS | _HOST_TOO)
NS_KEYWORDS = ("netns", "pidns", "ipcns", "userns")
_ALIASES = {alias: name for name, *_, extra in _ROWS for alias in extra.get("aliases", ())}
_DEFAULTS = {name: default for name, _, default, *_ in _ROWS}

Problem = tuple[str, str]  # (keyword, or the key it is written under; reason)


def check_container(values: Mapping[str, Any]) -> list[Problem]:
    """Volume mounts need an absolute host directory (OpenSVC's volume objects do not
    exist here)."""
    return [("volume_mounts", f"expected <host dir>:<container path>[:<options>] with an "
             f"absolute host dir, got {mount!r} (OpenSVC volume objects do not exist here)")
            for mount in values.get("volume_mounts") or ()
            if not mount.startswith("/") or mount.count(":") not in (1, 2)]


def check_task(values: Mapping[str, Any]) -> list[Problem]:
    """A host task needs a command and takes no container keyword (a likely slip: an
    image without a type would run the command on the host); a container task needs an
    image."""
    kind = values.get("type") or "host"
    if kind == "host":
        problems = [(name, "applies to container tasks only (type = "
                     f"{' | '.join(ENGINE_TYPES)}); this task's type is host")
                    for name in CONTAINER_ONLY
                    if name in values and values[name] != _DEFAULTS[name]]
        if not values.get("command"):
            problems.append(("command", "required keyword is missing"))
        return problems
    problems = check_container(values)
    try:
        shlex.split(values.get("command") or "")
    except ValueError as exc:
        problems.append(("command", f"cannot split shell-style: {exc}"))
    if not values.get("image"):
        problems.append(("image", f"required keyword is missing (a task of type {kind} runs "
                         "in a container)"))
    return problems


def written_as(lines: Mapping[str, int], keyword: str) -> str:
    """The key a keyword is written under in a section (``net@n1`` for ``netns``)."""
    for raw in lines:
        name = raw.partition("@")[0]
        if _ALIASES.get(name, name) == keyword:
            return raw
    return keyword


def check_namespaces(rc: Any, resources: Mapping[str, Any]) -> list[Problem]:
    """A namespace keyword naming a rid must name another container of this service."""
    problems: list[Problem] = []
    for keyword in NS_KEYWORDS:
        value = rc.get(keyword)
        if not value or not RID_VALUE.match(value):
            continue
        other = resources.get(value)
        if other is None:
            reason = f"no resource {value} in this service"
        elif other.driver != "container":
            reason = f"{value} is not a container: only a container has namespaces to share"
        elif other.rid == rc.rid:
            reason = "a container cannot share its own namespace"
        else:
            continue
        problems.append((written_as(rc.lines, keyword), reason))
    return problems
