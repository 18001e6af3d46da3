"""Who a command runs as: resolving ``user`` / ``group`` before anything is started.

Everything is looked up in the parent (name service lookups are not safe between fork
and exec), and every refusal happens here, before a process exists:

* ``user`` and ``group`` accept names or numeric ids; an unknown name is an
  :class:`IdentityError` naming it. A numeric uid without a passwd entry is accepted
  only together with an explicit ``group`` (there is no primary group to default to).
* ``user`` without ``group`` runs with the user's primary group; the supplementary
  groups are the user's groups from the group database (like ``login``/``su``).
* switching uid or gid needs root. Asking for the current user (or group) is not a
  switch and is always allowed; anything else as non-root raises
  :class:`ImpersonationError` ("cannot run as user 'x': impersonation requires root").
"""

from __future__ import annotations

import grp
import os
import pwd
from typing import NamedTuple

from orchestrator.execution.errors import IdentityError, ImpersonationError

DEFAULT_SHELL = "/bin/sh"


class Identity(NamedTuple):
    """The credentials a command runs with, fully resolved.

    ``switch`` is True when the child must change its credentials (setgroups, setgid,
    setuid); ``groups`` are the supplementary groups to set when it does.
    """

    uid: int
    gid: int
    name: str
    home: str
    shell: str
    groups: tuple[int, ...]
    switch: bool


def _lookup_user(user: str | int) -> pwd.struct_passwd | None:
    """The passwd entry for a name or numeric id; None for a numeric id without entry."""
    text = str(user).strip()
    if not text:
        raise IdentityError("cannot run as user '': empty user name")
    if text.isdigit():
        try:
            return pwd.getpwuid(int(text))
        except KeyError:
            return None
    try:
        return pwd.getpwnam(text)
    except KeyError:
        raise IdentityError(f"cannot run as user '{text}': no such user on this node") from None


def _lookup_group(group: str | int) -> int:
    text = str(group).strip()
    if not text:
        raise IdentityError("cannot run as group '': empty group name")
    if text.isdigit():
        return int(text)
    try:
        return grp.getgrnam(text).gr_gid
    except KeyError:
        raise IdentityError(f"cannot run as group '{text}': no such group on this node") from None


def _group_list(name: str, gid: int) -> tuple[int, ...]:
    try:
        return tuple(os.getgrouplist(name, gid))
    except OSError:
        return (gid,)


def current_identity() -> Identity:
    """The identity of this process (effective ids), as a no-switch :class:`Identity`."""
    uid, gid = os.geteuid(), os.getegid()
    try:
        entry = pwd.getpwuid(uid)
        name, home, shell = entry.pw_name, entry.pw_dir, entry.pw_shell or DEFAULT_SHELL
    except KeyError:
        name, home, shell = str(uid), "/", DEFAULT_SHELL
    return Identity(uid, gid, name, home, shell, tuple(os.getgroups()), switch=False)


def resolve_identity(user: str | int | None = None, group: str | int | None = None) -> Identity:
    """Resolve the ``user`` / ``group`` keywords into an :class:`Identity`.

    Raises :class:`IdentityError` for an unknown user or group and
    :class:`ImpersonationError` when a switch is needed and this process is not root.
    """
    me = current_identity()
    is_root = os.geteuid() == 0
    if user is None and group is None:
        return me

    if user is None:
        uid, name, home, shell = me.uid, me.name, me.home, me.shell
        gid = _lookup_group(group)  # type: ignore[arg-type]
        if gid == me.gid:
            return me
        if not is_root:
            raise ImpersonationError(
                f"cannot run as group '{group}': changing group requires root"
            )
        return Identity(uid, gid, name, home, shell, _group_list(name, gid), switch=True)

    entry = _lookup_user(user)
    if entry is None:
        uid = int(str(user).strip())
        if group is None:
            raise IdentityError(
                f"cannot run as user '{user}': uid {uid} has no passwd entry, set a group"
            )
        name, home, shell, primary = str(uid), "/", DEFAULT_SHELL, None
    else:
        uid, name, home = entry.pw_uid, entry.pw_name, entry.pw_dir
        shell, primary = entry.pw_shell or DEFAULT_SHELL, entry.pw_gid
    gid: int = _lookup_group(group) if group is not None else primary  # type: ignore[assignment]

    if uid == me.uid and (group is None or gid == me.gid):
        # Running as ourselves: keep our current groups, nothing to switch.
        return Identity(uid, me.gid, name, home, shell, me.groups, switch=False)
    if not is_root:
        if uid != me.uid:
            raise ImpersonationError(
                f"cannot run as user '{user}': impersonation requires root"
            )
        raise ImpersonationError(f"cannot run as group '{group}': changing group requires root")
    groups = _group_list(name, gid) if entry is not None else (gid,)
    return Identity(uid, gid, name, home, shell, groups, switch=True)
