"""Around an fs resource's mount: its mount point (created when missing), the root of the
mounted filesystem (mode, owner, ``directories``: om3's data receiver without its cfg/sec
installs), and the access checks of its status (om3's write check, else a read check)."""

from __future__ import annotations

import grp
import os
import pwd
import time
from typing import TYPE_CHECKING

from orchestrator.resources import hostcmd

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.log import Logger
    from orchestrator.resources.mounts import Mount

DEFAULT_DIR_MODE = 0o755
NO_WRITE_CHECK = ("tmpfs", "bind", "none")  # om3: virtual and bind mounts are not written to
# never kill the users of these (om3's file.IsProtected)
_PROTECTED = {"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc",
              "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var"}


class RootError(Exception):
    """A keyword that cannot be applied (an unknown user...)."""

    def __init__(self, keyword: str, reason: str):
        super().__init__(reason)
        self.keyword = keyword
        self.reason = reason


def protected(mnt: str) -> bool:
    return os.path.normpath(mnt) in _PROTECTED


def dir_mode(rc: ResourceConfig) -> int | None:
    """dirperm, else perm with x where r is set (om3's DirPermFromFilePerm), else None."""
    if rc["dirperm"] is not None:
        return int(rc["dirperm"])
    perm = rc["perm"]
    if perm is None:
        return None
    return perm | (0o100 if perm & 0o400 else 0) | (0o010 if perm & 0o040 else 0) | (
        0o001 if perm & 0o004 else 0)


def create_mountpoint(rc: ResourceConfig, dev: str, mnt: str, log: Logger
                      ) -> None:
    """A directory (a file, for a bind mount of a file), with its parents."""
    if rc["type"] in ("bind", "none") and os.path.isfile(dev):
        os.makedirs(os.path.dirname(mnt), DEFAULT_DIR_MODE, exist_ok=True)
        if not os.path.exists(mnt):
            log.info(f"create missing mountpoint file {mnt}")
            open(mnt, "a").close()
        elif not os.path.isfile(mnt):
            raise RootError("mnt", "the mount point exists but is not a regular file")
        return
    if os.path.isdir(mnt):
        return
    if os.path.exists(mnt):
        raise RootError("mnt", "the mount point exists but is not a directory")
    log.info(f"create missing mountpoint dir {mnt}")
    os.makedirs(mnt, dir_mode(rc) or DEFAULT_DIR_MODE, exist_ok=True)


def _ids(rc: ResourceConfig) -> tuple[int, int]:
    uid = gid = -1
    if rc["user"]:
        try:
            uid = int(rc["user"]) if rc["user"].isdigit() else pwd.getpwnam(rc["user"]).pw_uid
        except KeyError:
            raise RootError("user", "no such user on this node") from None
    if rc["group"]:
        try:
            gid = int(rc["group"]) if rc["group"].isdigit() else grp.getgrnam(rc["group"]).gr_gid
        except KeyError:
            raise RootError("group", "no such group on this node") from None
    return uid, gid


def apply(rc: ResourceConfig, mnt: str, log: Logger) -> None:
    """The mounted root's mode and owner, then ``directories`` (om3's DataRecv.Do)."""
    if not os.path.isdir(mnt):
        return
    uid, gid = _ids(rc)
    mode = dir_mode(rc)
    targets = [mnt] + [os.path.join(mnt, d.lstrip("/")) for d in rc["directories"]]
    for path in targets:
        if not os.path.isdir(path):
            if os.path.exists(path):
                raise RootError("directories", f"{path} exists and is not a directory")
            log.info(f"install directory {path}")
            os.makedirs(path, mode or DEFAULT_DIR_MODE, exist_ok=True)
        st = os.stat(path)
        if mode is not None and st.st_mode & 0o7777 != mode:
            log.info(f"change directory {path} mode to {mode:04o}")
            os.chmod(path, mode)
        if (uid != -1 and st.st_uid != uid) or (gid != -1 and st.st_gid != gid):
            log.info(f"change directory {path} owner to {rc['user'] or ''}:{rc['group'] or ''}")
            os.chown(path, uid, gid)


def access_problem(rc: ResourceConfig, mnt: str, mount: Mount) -> str | None:
    """Why the mounted filesystem is not usable (status warn), or None."""
    read_only = "ro" in mount.options or "ro" in (rc["mnt_opt"] or "").split(",")
    if rc["type"] not in NO_WRITE_CHECK and not read_only:
        return _write_problem(mnt)
    if rc["check_read"] and "nointr" not in (rc["mnt_opt"] or "").split(","):
        began = time.monotonic()
        res = hostcmd.run(["stat", "-f", mnt], timeout=rc["stat_timeout"], log=False)
        if not res.ok:
            spent = int((time.monotonic() - began) * 1000)
            return f"check read access failed after {spent} ms: {res.failure()}"
    return None


def _write_problem(mnt: str) -> str | None:
    """om3's checkWriteAccess: set the user.opensvc xattr on the root, else write a
    ``.opensvc`` file there."""
    stamp = str(time.time()).encode()
    try:
        os.setxattr(mnt, "user.opensvc", stamp)
        return None
    except OSError:
        pass
    try:
        with open(os.path.join(mnt, ".opensvc"), "wb") as fh:
            fh.write(b" ")
    except OSError as exc:
        return f"check write access: {exc.strerror or exc}"
    return None
