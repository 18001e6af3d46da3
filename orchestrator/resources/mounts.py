"""What is mounted where, from /proc/self/mountinfo, and which block devices a ``dev``
stands for: a device node (its symlinks resolved: /dev/disk/by-*, /dev/mapper), a
``LABEL=``/``UUID=`` (blkid), or a regular file (the loop devices backed by it, compared by
device and inode, not by name). Parsing is pure; tests feed it mountinfo text."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from orchestrator.resources import hostcmd

MOUNTINFO = Path("/proc/self/mountinfo")
_SYS_BLOCK = Path("/sys/block")
_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Mount:
    """One line of mountinfo (proc(5))."""

    mount_id: int
    parent_id: int
    device: tuple[int, int]  # major, minor of the mounted filesystem
    root: str  # the directory of the filesystem mounted here ("/" unless a bind of a subdir)
    mountpoint: str
    options: tuple[str, ...]
    fstype: str
    source: str
    super_options: tuple[str, ...]


def unescape(text: str) -> str:
    """mountinfo writes space, tab, newline and backslash as \\040, \\011, \\012, \\134."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), text)


def parse_mountinfo(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields[6:]:
            continue
        sep = fields.index("-", 6)
        major, _, minor = fields[2].partition(":")
        tail = fields[sep + 1:] + ["", "", ""]
        mounts.append(Mount(int(fields[0]), int(fields[1]), (int(major), int(minor)),
                            unescape(fields[3]), unescape(fields[4]),
                            tuple(fields[5].split(",")), tail[0], unescape(tail[1]),
                            tuple(o for o in tail[2].split(",") if o)))
    return mounts


def read_mounts() -> list[Mount]:
    return parse_mountinfo(MOUNTINFO.read_text())


def mounted_at(mounts: list[Mount], mountpoint: str) -> list[Mount]:
    """The mounts on ``mountpoint`` (stacked ones too), in mount order."""
    return [m for m in mounts if m.mountpoint == mountpoint]


def canonical_mountpoint(path: str) -> str:
    """``path`` as mountinfo spells it: absolute, symlinks of existing parts resolved."""
    return os.path.realpath(os.path.normpath(path))


class NoDevice(Exception):
    pass


def resolve_device(dev: str) -> str:
    """A device path for ``dev``: ``LABEL=``/``UUID=`` looked up with blkid, symlinks
    resolved; a path that does not exist is returned as is."""
    if dev.startswith(("LABEL=", "UUID=", "PARTUUID=", "PARTLABEL=")):
        res = hostcmd.run(["blkid", "-l", "-o", "device", "-t", dev], timeout=30, log=False)
        found = res.out.strip().splitlines()
        if not res.ok or not found:
            raise NoDevice(f"no block device with {dev}")
        dev = found[0]
    return os.path.realpath(dev) if os.path.exists(dev) else dev


def device_numbers(dev: str) -> set[tuple[int, int]]:
    """The (major, minor) a mount of ``dev`` shows in mountinfo: a block device's own, or,
    for a regular file (an image), those of the loop devices backed by it."""
    try:
        st = os.stat(dev)
    except OSError:
        return set()
    if stat.S_ISBLK(st.st_mode):
        return {(os.major(st.st_rdev), os.minor(st.st_rdev))}
    if stat.S_ISREG(st.st_mode):
        return {numbers for _, numbers in loops_backed_by(dev)}
    return set()


def loops_backed_by(path: str) -> list[tuple[str, tuple[int, int]]]:
    """(/dev/loopN, (major, minor)) of every loop device whose backing file is ``path``
    (the same file: device and inode, whatever name it was attached by)."""
    try:
        want = os.stat(path)
    except OSError:
        return []
    found = []
    for loop in sorted(_SYS_BLOCK.glob("loop*"), key=lambda p: _loop_index(p.name)):
        try:
            backing = (loop / "loop" / "backing_file").read_text().strip()
            numbers = (loop / "dev").read_text().strip()
        except OSError:
            continue  # not attached
        backing = backing.removesuffix(" (deleted)")
        try:
            st = os.stat(backing)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
            major, _, minor = numbers.partition(":")
            found.append((f"/dev/{loop.name}", (int(major), int(minor))))
    return found


def diskseq(device: str) -> str | None:
    """The kernel's sequence number of the disk (it changes at each loop attach): what tells
    one attachment of /dev/loopN from a later one."""
    try:
        return (_SYS_BLOCK / os.path.basename(device) / "diskseq").read_text().strip()
    except OSError:
        return None


def _loop_index(name: str) -> int:
    digits = name.removeprefix("loop")
    return int(digits) if digits.isdigit() else 1 << 30


def mounts_of(mounts: list[Mount], dev: str) -> list[Mount]:
    """The mounts of ``dev`` (a resolved device path or image file), wherever they are:
    by device numbers, else (btrfs shows anonymous numbers) by the source's real path."""
    numbers = device_numbers(dev)
    real = os.path.realpath(dev) if os.path.exists(dev) else dev
    return [m for m in mounts if m.device in numbers
            or (m.source.startswith("/") and _realpath(m.source) == real)]


def _realpath(path: str) -> str:
    return os.path.realpath(path) if os.path.exists(path) else path


def same_file(a: str, b: str) -> bool:
    """Two paths name the same inode (a bind mount's source and its mountpoint)."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)
