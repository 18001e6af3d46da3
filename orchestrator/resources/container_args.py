"""The engine's ``run`` arguments of a container resource or a container task, from its
keywords, the way om3 builds them (drivers/rescontainerocibase/executor_args.go): each
keyword sets its option and drops the same option from ``run_args``; ``run_args`` comes
last, then the image and the command.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orchestrator.config.tables.container_common import RID_VALUE

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

LABEL_SERVICE = "orchestrator.service"
LABEL_RID = "orchestrator.rid"
LABEL_RUN = "orchestrator.run_id"
# the --ulimit names of the limit_* keywords (vmem is OpenSVC's name of as)
_ULIMITS = {"as": "as", "vmem": "as", "core": "core", "cpu": "cpu", "data": "data",
            "fsize": "fsize", "memlock": "memlock", "nofile": "nofile", "nproc": "nproc",
            "rss": "rss", "stack": "stack"}
_PODMAN_USERNS = ("auto", "host", "keep-id", "nomap", "ns:")


class ArgsError(Exception):
    """A keyword value the engine cannot be given (a failed start or run, this reason)."""


def container_name(service: Service, rc: ResourceConfig) -> str:
    """om3's name: the ``name`` keyword, else ``<service>.<rid with # as .>``."""
    return rc.get("name") or f"{service.name}.{rc.rid.replace('#', '.')}"


def task_container_name(service: Service, rc: ResourceConfig, run_id: str) -> str:
    """A task run's own container: the resource's name and the run id."""
    return f"{container_name(service, rc)}.{run_id}"


def _namespace(service: Service, keyword: str, value: str | None) -> str | None:
    """A namespace keyword's option value: a rid becomes container:<its name>."""
    if not value:
        return None
    if RID_VALUE.match(value):
        try:
            other = service.resource(value)
        except KeyError:
            raise ArgsError(f"{keyword} = {value}: no such resource in this service") from None
        return f"container:{container_name(service, other)}"
    return value


def _drop(args: list[str], names: tuple[str, ...], takes_value: bool) -> list[str]:
    """``args`` without the options ``names`` (``--opt v``, ``--opt=v``, ``-o v``)."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        head = arg.split("=", 1)[0]
        if head in names:
            skip = takes_value and "=" not in arg
            continue
        kept.append(arg)
    return kept


def _has(args: list[str], names: tuple[str, ...]) -> bool:
    return any(arg.split("=", 1)[0] in names for arg in args)


def ensure_mount_sources(rc: ResourceConfig) -> None:
    """Create the missing host directories of volume_mounts (om3 does)."""
    for mount in rc.get("volume_mounts") or ():
        source = mount.split(":", 1)[0]
        if source.startswith("/") and not os.path.exists(source):
            os.makedirs(source, exist_ok=True)


def run_args(service: Service, rc: ResourceConfig, name: str, *, engine: str,
             detach: bool, remove: bool, environment: Mapping[str, str],
             labels: Mapping[str, str] | None = None,
             limits: Mapping[str, int] | None = None) -> list[str]:
    """``run ... IMAGE COMMAND`` for ``engine`` (docker or podman); ArgsError on a value
    the engine cannot take."""
    extra = list(rc.get("run_args") or ())
    a = ["run", "--name", name]
    extra = _drop(extra, ("--name",), True)
    if detach:
        a.append("--detach")
        extra = _drop(extra, ("--detach", "-d"), False)
    if remove:
        a.append("--rm")
        extra = _drop(extra, ("--rm",), False)
    user, group = rc.get("user"), rc.get("group")  # a task has group too: user:group
    if group:
        user = f"{user or 0}:{group}"
    for value, option, short in ((rc.get("hostname"), "--hostname", "-h"),
                                 (user, "--user", "-u"), (rc.get("cwd"), "--workdir", "-w")):
        if value:
            a += [option, str(value)]
            extra = _drop(extra, (option, short), True)
    for keyword, option, short in (("tty", "--tty", "-t"), ("privileged", "--privileged", ""),
                                   ("interactive", "--interactive", "-i"),
                                   ("init", "--init", "")):
        if rc.get(keyword):
            a.append(option)
            extra = _drop(extra, (option, short) if short else (option,), False)
    if rc.get("read_only") is not None:
        extra = _drop(extra, ("--read-only",), False)
        a.append(f"--read-only={rc['read_only']}")
    if rc.get("entrypoint"):
        a += ["--entrypoint", rc["entrypoint"][0]]
        extra = _drop(extra, ("--entrypoint",), True)
    netns = _namespace(service, "netns", rc.get("netns"))
    if netns is None and not _has(extra, ("--net", "--network")):
        netns = "none"  # a private netns (om3's docker default), never the default bridge
    if netns is not None:
        a += ["--network", netns]
        extra = _drop(extra, ("--net", "--network"), True)
        if netns not in ("none", "host") and not netns.startswith("container:"):
            for domain in rc.get("dns_search") or ():
                a += ["--dns-search", domain]
    for keyword, option in (("pidns", "--pid"), ("ipcns", "--ipc"), ("utsns", "--uts")):
        value = _namespace(service, keyword, rc.get(keyword))
        if value:
            a += [option, value]
            extra = _drop(extra, (option,), True)
    a += _userns(service, rc, engine)
    for setting in rc.get("sysctl") or ():
        a += ["--sysctl", setting]
    for device in rc.get("devices") or ():
        a += ["--device", device]
    for mount in rc.get("volume_mounts") or ():
        a += ["--volume", mount if mount.count(":") == 2 else f"{mount}:rw"]
    for limit, value in (limits or {}).items():
        ulimit = _ULIMITS.get(limit)
        if ulimit:
            a += ["--ulimit", f"{ulimit}={value}:{value}"]
    for var, value in environment.items():
        a += ["--env", f"{var}={value}"]
    for key, value in {LABEL_SERVICE: service.name, LABEL_RID: rc.rid, **(labels or {})}.items():
        a += ["--label", f"{key}={value}"]
    a += extra
    a.append(rc["image"])
    command = rc.get("command") or ()
    if isinstance(command, str):  # a task's command: one shell-style string
        command = shlex.split(command)
    a += list(command)
    return a


def _userns(service: Service, rc: ResourceConfig, engine: str) -> list[str]:
    value = rc.get("userns")
    if not value:
        return []
    if engine == "docker" and value != "host":
        raise ArgsError(f"userns = {value}: docker accepts host only")
    if engine == "podman" and value.startswith(_PODMAN_USERNS):
        return ["--userns", value]
    return ["--userns", _namespace(service, "userns", value) or value]


def container_environment(service: Service, rc: ResourceConfig,
                          extra: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The variables a container gets: OpenSVC's, ours, the environment keyword."""
    env = {"OPENSVC_RID": rc.rid, "OPENSVC_NAME": service.name,
           "OPENSVC_SVCNAME": service.name, "ORCHESTRATOR_SVCNAME": service.name,
           "ORCHESTRATOR_RID": rc.rid, "ORCHESTRATOR_NODE": service.nodename}
    env.update(rc.get("environment") or {})
    env.update(extra or {})
    return env
