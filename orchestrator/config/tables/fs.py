"""Keywords of ``[fs#N]`` sections (om3's fs host manifest, its data-receiver keywords, and
the flag type, which has none of its own)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.config import types as t
from orchestrator.config.keyword import RESOURCE_COMMON, Keyword
from orchestrator.config.keyword import kw as _kw
from orchestrator.resources.exposed import reference_problems

WITHOUT_DEVICE = ("tmpfs", "flag")  # virtual: the dev keyword is not used
WITHOUT_MOUNT = ("flag",)


def _refuse(what: str) -> Any:
    def refuse(value: Any) -> str | None:
        return f"not supported: {what}" if value else None

    return refuse


_NEEDS_STORES = "it installs keys of OpenSVC cfg/sec objects, which this project has not"

ROWS: list[Keyword] = [
    _kw("fs", "type", t.to_string, None,
        "ext2, ext3, ext4, xfs, btrfs (a block device), tmpfs, bind or none (a directory "
        "bind-mounted), flag (a flag file that says the instance is up, om3's fs.flag).",
        required=True),
    _kw("fs", "dev", t.to_string, None,
        "Block device, LABEL=/UUID=, image file, or {disk#N.exposed_devs[0]}; for bind, the "
        "source directory (created when missing). Unused by tmpfs and flag."),
    _kw("fs", "mnt", t.to_string, None,
        "Mount point, created when missing (mode from dirperm/perm, else 0755). Required but "
        "for flag."),
    _kw("fs", "mnt_opt", t.to_string, None, "Mount options, as in fstab (`-o`)."),
    _kw("fs", "mkfs_opt", t.to_shlex_list, (),
        "Options of mkfs when start finds the device blank (no signature at all): it "
        "formats it, as om3's provision does."),
    _kw("fs", "stat_timeout", t.to_duration, 5.0,
        "Time limit of the status's read check (`stat -f`); past it the status is warn."),
    _kw("fs", "check_read", t.to_bool, False,
        "Status runs a read check (`stat -f MNT`) when the write check is not possible "
        "(ro, bind, tmpfs); not with mnt_opt nointr."),
    _kw("fs", "promote_rw", t.to_bool, False,
        "Set the device read-write (blockdev --setrw) before mounting."),
    _kw("fs", "user", t.to_string, None, "Owner of the mounted filesystem's root (name or uid)."),
    _kw("fs", "group", t.to_string, None, "Group of the mounted filesystem's root (name or gid)."),
    _kw("fs", "perm", t.to_file_mode, None,
        "Files' mode (om3); the root directory's mode is derived from it (x where r) unless "
        "dirperm is set."),
    _kw("fs", "dirperm", t.to_file_mode, None,
        "Mode of the mounted root and of `directories`."),
    _kw("fs", "directories", t.to_list, (),
        "Directories created in the mounted filesystem, with dirperm, user and group."),
    _kw("fs", "install", t.to_shlex_list, (), "om3: files installed from cfg/sec objects.",
        refuse=_refuse(_NEEDS_STORES)),
    _kw("fs", "configs", t.to_shlex_list, (), "om3: cfg keys installed in the filesystem.",
        refuse=_refuse(_NEEDS_STORES)),
    _kw("fs", "secrets", t.to_shlex_list, (), "om3: sec keys installed in the filesystem.",
        refuse=_refuse(_NEEDS_STORES)),
    _kw("fs", "signal", t.to_string, None,
        "om3: signal resources when installed keys change. "
        "Accepted, no effect: nothing is installed from cfg/sec objects here."),
    _kw("fs", "zone", t.to_string, None, "Solaris zone of the filesystem (om3).",
        refuse=_refuse("Solaris zones")),
    _kw("fs", "scsireserv", t.to_bool, False, "SCSI persistent reservation of the device.",
        refuse=_refuse("SCSI persistent reservations")),
    _kw("fs", "prkey", t.to_string, None, "SCSI persistent reservation key. "
        "Accepted, no effect: there are no SCSI reservations here."),
    _kw("fs", "no_preempt_abort", t.to_bool, False, "SCSI persistent reservation preempt mode. "
        "Accepted, no effect: there are no SCSI reservations here."),
    *[_kw("fs", n, c, d, doc) for n, c, d, doc in RESOURCE_COMMON],
]


def check(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Across keywords: what the type needs (mnt, dev), and a usable mount point."""
    kind = values.get("type")
    problems = []
    if kind not in WITHOUT_MOUNT:
        mnt = values.get("mnt")
        if not mnt:
            problems.append(("mnt", f"required keyword is missing (type {kind})"))
        elif not mnt.startswith("/") or mnt.rstrip("/") == "":
            problems.append(("mnt", "expected an absolute path other than /"))
    if kind not in WITHOUT_DEVICE and kind is not None:
        dev = values.get("dev")
        if not dev or dev == "none":
            problems.append(("dev", f"required keyword is missing (type {kind})"))
    return problems


def exposed_references(rc: Any, resources: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``dev = {disk#1.exposed_devs[0]}`` names a resource of this service that exposes
    devices (the device itself is only known at run time)."""
    drivers = {rid: other.driver for rid, other in resources.items()}
    return [("dev", reason) for reason in reference_problems(rc.get("dev") or "", drivers)]


CHECKS = [("fs", check)]
SERVICE_CHECKS = [("fs", exposed_references)]
