"""The ``disk`` driver, type loop (om3's resdiskloop): a loop device on a file.

start: attach the file with ``losetup -f --show`` unless a loop device already backs it;
a missing file is created first, sparse, ``size`` bytes, mode 0600 (om3 does this at
provision; this project has no provision action, so start does). A file on a tmpfs is
volatile: om3 recreates it at start and removes it at stop, and so do we. stop: ``losetup
-d`` each loop device backed by the file, and wait until it is gone; one still mounted is
not detached (losetup would only mark it to go at the last umount): the stop fails, naming
the mount. status: up iff a loop device is backed by the file (compared by device and
inode) and it is the attachment this node made (its device and diskseq, kept in the
instance's state: two nodes on one host, as in the tests, share the loop devices but not
their attachments; stop leaves another's alone, start takes over one it finds, as om3's
"already set up"); warn when the file is gone or empty. The device is offered to the others
as ``{disk#N.exposed_devs[0]}`` (see exposed).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.log import Logger, get_logger
from orchestrator.resources import hostcmd, mounts
from orchestrator.resources.problems import keyword_problem
from orchestrator.resources.status import Status

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

# host-wide, not under the node root: two nodes on one host share its loop devices
_LOSETUP_LOCK = Path("/run/lock/orchestrator-losetup.lock")
DETACH_WAIT = 5.0
STATE = "loops"  # the instance's local state: rid -> the attachment this node made


def _devices(rc: ResourceConfig) -> list[str]:
    """Every loop device backed by the file, whoever attached it."""
    return [name for name, _ in mounts.loops_backed_by(rc["file"])]


def _record(service: Service, rc: ResourceConfig) -> dict | None:
    return service.state.read().get(STATE, {}).get(rc.rid)


def _remember(service: Service, rc: ResourceConfig, device: str | None) -> None:
    value = {"device": device, "diskseq": mounts.diskseq(device)} if device else None
    service.state.update(STATE, rc.rid, value)


def _ours(service: Service, rc: ResourceConfig, devices: list[str]) -> list[str]:
    """The attachment this node made (its device and diskseq recorded in the instance's
    state): two nodes on one host share the loop devices, not their attachments."""
    record = _record(service, rc)
    if not record:
        return []
    return [d for d in devices if d == record.get("device")
            and record.get("diskseq") in (None, mounts.diskseq(d))]


def exposed(service: Service, rc: ResourceConfig, name: str) -> list[str]:
    """``exposed_devs``: the loop device this node attached to the file (none while down)."""
    return _ours(service, rc, _devices(rc)) if name == "exposed_devs" else []


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str, str | None]:
    attached = _devices(rc)
    devices = _ours(service, rc, attached)
    label = rc["file"] + (f" ({', '.join(devices)})" if devices else "")
    if not devices:
        others = f"attached to {', '.join(attached)}, not by this node" if attached else None
        return Status.DOWN, label, others
    try:
        size = os.stat(rc["file"]).st_size
    except OSError:
        return Status.WARN, label, "backend file deleted"
    if size == 0:
        return Status.WARN, label, "file exists but is empty"
    return Status.UP, label, None


@contextlib.contextmanager
def _losetup_lock() -> Iterator[None]:
    """One check-then-attach at a time on this host (om3 locks losetup likewise)."""
    _LOSETUP_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(_LOSETUP_LOCK, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def start(service: Service, rc: ResourceConfig,
          on_line: Callable[[str], None] | None = None) -> str | None:
    try:
        return _start(service, rc)
    except OSError as exc:
        return f"{rc['file']}: {exc.strerror or exc}"


def _start(service: Service, rc: ResourceConfig) -> str | None:
    log = get_logger().bind(svc=service.name, rid=rc.rid)
    path = rc["file"]
    with _losetup_lock():
        devices = _devices(rc)
        if devices:
            if os.path.getsize(path) == 0:
                return f"{path} exists but is empty"
            ours = _ours(service, rc, devices)
            log.info(f"{path} is already set up on {', '.join(ours or devices)}")
            if not ours:
                _remember(service, rc, devices[0])  # om3 takes it as it finds it
            return None
        if _volatile(path) and os.path.isfile(path):
            log.info(f"{path} is on a tmpfs: recreated (volatile)")
            os.unlink(path)
        if not os.path.exists(path):
            error = _create(service, rc, log)
            if error:
                return error
        elif not os.path.isfile(path):
            return keyword_problem(service, rc, "file", path, "exists but is not a regular file")
        res = hostcmd.run(["losetup", "-f", "--show", path], timeout=60, logger=log)
        if not res.ok:
            return res.failure()
        device = res.out.strip()
        _remember(service, rc, device)
    log.info(f"{path} attached to {device}")
    return None


def _create(service: Service, rc: ResourceConfig, log: Logger) -> str | None:
    """The backing file, sparse (om3: one byte written at the last 512-byte block)."""
    path, size = rc["file"], rc["size"]
    if not size:
        return keyword_problem(service, rc, "size", None,
                               f"not set, and the file {path} does not exist")
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        log.info(f"create file {path} ({size} bytes, sparse)")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, size // 512 * 512)
        finally:
            os.close(fd)
        os.chown(path, 0, 0)
    except OSError as exc:
        return keyword_problem(service, rc, "file", path, f"cannot create it: {exc.strerror}")
    return None


def _volatile(path: str) -> bool:
    """Whether the file lives on a tmpfs (om3's isVolatile)."""
    try:
        real = os.path.realpath(path)
        best = max((m for m in mounts.read_mounts()
                    if real == m.mountpoint or real.startswith(m.mountpoint.rstrip("/") + "/")),
                   key=lambda m: len(m.mountpoint), default=None)
    except OSError:
        return False
    return best is not None and best.fstype == "tmpfs"


def stop(service: Service, rc: ResourceConfig,
         on_line: Callable[[str], None] | None = None) -> str | None:
    log = get_logger().bind(svc=service.name, rid=rc.rid)
    path = rc["file"]
    attached = _devices(rc)
    devices = _ours(service, rc, attached)
    if not devices:
        log.info(f"{path} is already down" + (
            f" here (attached to {', '.join(attached)}, not by this node: left alone)"
            if attached else ""))
    table = mounts.read_mounts()
    for device in devices:
        users = sorted({m.mountpoint for m in mounts.mounts_of(table, device)})
        if users:  # losetup -d would only mark it to go at the last umount
            return f"{device} ({path}) is still mounted on {', '.join(users)}: not detached"
    for device in devices:
        res = hostcmd.run(["losetup", "-d", device], timeout=60, logger=log)
        if not res.ok:
            return res.failure()
    deadline = time.monotonic() + DETACH_WAIT
    while left := sorted(set(devices) & set(_devices(rc))):
        if time.monotonic() > deadline:
            return f"losetup silently failed to detach {', '.join(left)} (still in use?)"
        time.sleep(0.1)
    if _record(service, rc):
        _remember(service, rc, None)
    if _volatile(path) and os.path.isfile(path) and not _devices(rc):
        log.info(f"unlink {path} (on a tmpfs: volatile)")
        os.unlink(path)
    return None
