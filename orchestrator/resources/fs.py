"""The ``fs`` driver (om3's resfshost; type flag is fs_flag): a filesystem mounted on
this node.

start: the device must exist (a bind source directory is created); already mounted here
is success; mounted elsewhere on this node is refused (a double mount); ``promote_rw``;
a blank device (no signature at all, blkid) is formatted with mkfs (om3 does it at
provision, which this project does not have); ext* are checked with ``e2fsck -p``; the
mount point is created; ``mount -t TYPE [-o mnt_opt] DEV MNT`` (``-o bind`` for bind);
then the root of the mounted filesystem gets dirperm (or perm with x where r), user and
group, and ``directories`` are created. stop: ``umount MNT``; when it is busy, the
processes using the filesystem are killed (``fuser -kMm``, as om3) and umount retried, 4
times. status: from /proc/self/mountinfo (the device compared by numbers: symlinks, LABEL=,
image files and their loop devices all match), then om3's write check (an xattr, else a
``.opensvc`` file) or, with ``check_read``, ``stat -f`` within ``stat_timeout``: warn on
failure.

``dev`` may hold ``{disk#N.exposed_devs[0]}``: expanded each time from the live disk; a disk
that is down means this fs cannot be mounted (status down, stop has nothing to do).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from orchestrator.log import Logger, get_logger
from orchestrator.resources import fs_flag, fs_root, hostcmd, mounts
from orchestrator.resources.exposed import ExposedError, expand_exposed
from orchestrator.resources.problems import keyword_problem
from orchestrator.resources.status import Status

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

VIRTUAL = ("tmpfs",)
BIND = ("bind", "none")
MKFS = {"ext2": "mkfs.ext2", "ext3": "mkfs.ext3", "ext4": "mkfs.ext4", "xfs": "mkfs.xfs",
        "btrfs": "mkfs.btrfs"}
EXT = ("ext2", "ext3", "ext4")
E2FSCK_OK = (0, 1, 32, 33)  # om3's extFSCK: clean, corrected, canceled
UMOUNT_BUSY = 32  # util-linux umount's "mount failure", om3 reads it as EBUSY
KILL_ATTEMPTS = 4


class _Refused(Exception):
    """The sentence a failed action returns (``short``: the reason alone, for a status)."""

    def __init__(self, sentence: str, short: str | None = None):
        super().__init__(sentence)
        self.short = short or sentence


def _options(rc: ResourceConfig) -> list[str]:
    return [o for o in (rc["mnt_opt"] or "").split(",") if o]


def _device(service: Service, rc: ResourceConfig) -> str:
    """The device to mount: references expanded, LABEL=/UUID= and symlinks resolved."""
    kind = rc["type"]
    if kind in VIRTUAL:
        return "none"
    try:
        dev = expand_exposed(service, rc["dev"])
    except ExposedError as exc:
        raise _Refused(keyword_problem(service, rc, "dev", rc["dev"], str(exc)),
                       str(exc)) from None
    if kind in BIND:
        return os.path.normpath(dev)
    try:
        return mounts.resolve_device(dev)
    except mounts.NoDevice as exc:
        raise _Refused(keyword_problem(service, rc, "dev", rc["dev"], str(exc))) from None


def _mounted(rc: ResourceConfig, dev: str, mnt: str, table: list[mounts.Mount]
             ) -> mounts.Mount | None:
    """Our mount on ``mnt``, if it is there (om3's isMounted, by type)."""
    here = mounts.mounted_at(table, mnt)
    kind = rc["type"]
    if kind in VIRTUAL:
        found = [m for m in here if m.fstype == kind]
    elif kind in BIND or "bind" in _options(rc):
        found = here if here and mounts.same_file(dev, mnt) else []
    else:
        found = mounts.mounts_of(here, dev)
    return found[-1] if found else None


def _label(rc: ResourceConfig, dev: str | None) -> str:
    """om3's ``dev@mnt``, with the device the references stand for."""
    return f"{'tmpfs' if rc['type'] in VIRTUAL else dev or rc['dev']}@{rc['mnt']}"


def status(service: Service, rc: ResourceConfig) -> tuple[Status, str, str | None]:
    if rc["type"] == "flag":
        return fs_flag.status(service, rc)
    try:
        dev = _device(service, rc)
    except _Refused as exc:
        return Status.DOWN, _label(rc, None), exc.short
    label = _label(rc, dev)
    mnt = mounts.canonical_mountpoint(rc["mnt"])
    try:
        mount = _mounted(rc, dev, mnt, mounts.read_mounts())
    except OSError as exc:
        return Status.UNDEF, label, f"cannot read the mount table: {exc}"
    if mount is None:
        missing = rc["type"] not in VIRTUAL + BIND and not os.path.exists(dev)
        return Status.DOWN, label, f"device {dev} does not exist" if missing else None
    problem = fs_root.access_problem(rc, mnt, mount)
    if problem:
        return Status.WARN, label, problem
    return Status.UP, label, None


def start(service: Service, rc: ResourceConfig,
          on_line: Callable[[str], None] | None = None) -> str | None:
    if rc["type"] == "flag":
        return fs_flag.start(service, rc, on_line)
    log = get_logger().bind(svc=service.name, rid=rc.rid)
    try:
        _start(service, rc, log)
    except _Refused as exc:
        return str(exc)
    except fs_root.RootError as exc:
        return keyword_problem(service, rc, exc.keyword, rc[exc.keyword], exc.reason)
    except OSError as exc:
        return str(exc)
    return None


def _start(service: Service, rc: ResourceConfig, log: Logger) -> None:
    kind = rc["type"]
    dev = _device(service, rc)
    mnt = mounts.canonical_mountpoint(rc["mnt"])
    block = kind not in VIRTUAL + BIND
    if block and not os.path.exists(dev):
        raise _Refused(keyword_problem(service, rc, "dev", rc["dev"],
                                       f"device {dev} does not exist"))
    if kind in BIND and not os.path.exists(dev):
        log.info(f"create missing device {dev}")
        os.makedirs(dev, 0o755, exist_ok=True)
    table = mounts.read_mounts()
    if _mounted(rc, dev, mnt, table):
        log.info(f"{dev} is already mounted on {mnt}")
        fs_root.apply(rc, mnt, log)
        return
    if block:
        elsewhere = sorted({m.mountpoint for m in mounts.mounts_of(table, dev)} - {mnt})
        if elsewhere:
            raise _Refused(f"{dev} is already mounted on {', '.join(elsewhere)}: refusing "
                           f"to mount it on {mnt} too (a double mount)")
        _promote_rw(rc, dev, log)
        _provision_blank(rc, dev, log)
        _fsck(rc, dev, log)
    fs_root.create_mountpoint(rc, dev, mnt, log)
    argv = ["mount"] + (["-o", "bind"] if kind == "bind" else ["-t", kind])
    if rc["mnt_opt"]:
        argv += ["-o", rc["mnt_opt"]]
    res = hostcmd.run(argv + [dev, mnt], timeout=60, logger=log)
    if not res.ok:
        raise _Refused(res.failure())
    fs_root.apply(rc, mnt, log)


def _promote_rw(rc: ResourceConfig, dev: str, log: Logger) -> None:
    if not rc["promote_rw"]:
        return
    res = hostcmd.run(["blockdev", "--getro", dev], timeout=30, log=False)
    if res.ok and res.out.strip() == "1":
        log.info(f"promote device {dev} read-write")
        res = hostcmd.run(["blockdev", "--setrw", dev], timeout=30, logger=log)
        if not res.ok:
            raise _Refused(res.failure())


def _provision_blank(rc: ResourceConfig, dev: str, log: Logger) -> None:
    """mkfs a device that holds no signature at all (blkid -p exits 2: no filesystem, no
    partition table, no RAID member): om3's provision, done at the first start here."""
    probe = hostcmd.run(["blkid", "-p", dev], timeout=30, log=False)
    if probe.code != 2:
        return
    kind = rc["type"]
    mkfs = MKFS[kind]
    force = ["-f"] if kind in ("xfs", "btrfs") else ["-F", "-q"]
    log.info(f"{dev} holds no filesystem: formatting it {kind} (first start)")
    res = hostcmd.run([mkfs, *force, *rc["mkfs_opt"], dev], timeout=600, logger=log)
    if not res.ok:
        raise _Refused(res.failure())


def _fsck(rc: ResourceConfig, dev: str, log: Logger) -> None:
    if rc["type"] not in EXT:
        return
    res = hostcmd.run(["e2fsck", "-p", dev], timeout=3600, logger=log)
    if res.code not in E2FSCK_OK:
        raise _Refused(res.failure())


def stop(service: Service, rc: ResourceConfig,
         on_line: Callable[[str], None] | None = None) -> str | None:
    if rc["type"] == "flag":
        return fs_flag.stop(service, rc, on_line)
    log = get_logger().bind(svc=service.name, rid=rc.rid)
    try:
        dev = _device(service, rc)
    except _Refused as exc:
        log.info(f"already down: {exc}")
        return None
    mnt = mounts.canonical_mountpoint(rc["mnt"])
    if not _mounted(rc, dev, mnt, mounts.read_mounts()):
        log.info(f"{dev} is already unmounted from {mnt}")
        return None
    res = hostcmd.run(["umount", mnt], timeout=60, logger=log)
    if res.ok or not _mounted(rc, dev, mnt, mounts.read_mounts()):
        return None
    if res.code != UMOUNT_BUSY or fs_root.protected(mnt):
        return res.failure()
    log.warning(f"{res.failure()}: killing the processes using {mnt}")
    for _ in range(KILL_ATTEMPTS):
        hostcmd.run(["fuser", "-kMm", mnt], timeout=60, logger=log)
        time.sleep(0.2)  # SIGKILLed processes let go of their files as they exit
        again = hostcmd.run(["umount", mnt], timeout=60, logger=log)
        if again.ok or not _mounted(rc, dev, mnt, mounts.read_mounts()):
            return None
    return res.failure() + f" (still busy after killing its users {KILL_ATTEMPTS} times)"
