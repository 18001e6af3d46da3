"""The sections of a service config, named as OpenSVC names them: ``DEFAULT``, ``env``,
``<group>#<id>`` resources, ``subset#<group>[:<name>]`` resource sets, and ``sync#i0``
(v2's implicit config sync, which v3 files still carry).

Whether a resource section is ours to run is decided here, and only from the driver
registry: a group the registry lacks, or a ``type`` its DriverSpec does not list (when it
lists types), is an OpenSVC driver we do not implement. Such a section gets one error naming
the driver and nothing else, so a file refused for a missing driver says only that.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from orchestrator.resources.registry import DRIVERS

# OpenSVC's resource groups of service objects (om3's core/driver groups, v2's data sections)
OPENSVC_GROUPS = ("app", "certificate", "container", "disk", "expose", "fs", "hashpolicy", "ip",
                  "route", "share", "sync", "task", "vhost", "volume")
# the types OpenSVC has for each group (om3's drivers/res<group><type>, v2's
# drivers/resource/<group>/<type> and their basename aliases); fs: any (om3's fs host driver
# takes whatever mkfs type); a value outside these is no OpenSVC driver but a bad value,
# which the keyword's own check reports
OPENSVC_TYPES: dict[str, tuple[str, ...] | None] = {
    "app": ("forking", "simple", "winservice"),
    "container": ("amazon", "docker", "esx", "hpvm", "jail", "kvm", "ldom", "lxc", "lxd", "oci",
                  "openstack", "ovm", "podman", "srp", "vbox", "vcloud", "vz", "xen", "zone"),
    "disk": ("advfs", "amazon", "crypt", "disk", "drbd", "gandi", "gce", "hp3par", "hpvm", "ldom",
             "loop", "lv", "lvm", "md", "pool", "rados", "raw", "scsireserv", "vdisk", "veritas",
             "vg", "vxdg", "vxvol", "xp8", "zpool", "zvol"),
    "fs": None,
    "ip": ("amazon", "cni", "crossbow", "docker", "gce", "host", "netns", "route", "rule",
           "zone"),
    "share": ("nfs",),
    "sync": ("btrfs", "btrfssnap", "dds", "docker", "evasnap", "hp3par", "hp3parsnap",
             "ibmdssnap", "necismsnap", "netapp", "nexenta", "oci", "radosclone", "radossnap",
             "rsync", "s3", "symclone", "symsnap", "symsnapvx", "symsrdfs", "zfs", "zfssnap"),
    "task": ("docker", "host", "oci", "podman"),
}
# OpenSVC v1's section groups, which v2 read as a group and a type
V1_GROUPS = {"vg": ("disk", "vg"), "pool": ("disk", "zpool"), "drbd": ("disk", "drbd"),
             "loop": ("disk", "loop"), "md": ("disk", "md"), "vmdg": ("disk", "ldom"),
             "vdisk": ("disk", "vdisk")}
CONFIG_SYNC = "sync#i0"  # the config distribution (daemon/configs.py) does its job here

_RESOURCE = re.compile(r"^(?P<group>[a-z]+)#(?P<id>[A-Za-z0-9_.-]+)$")
# v2 also wrote the type: subset#container.docker:web
_SUBSET = re.compile(r"^subset#(?P<group>[a-z]+)(?:\.(?P<type>[a-z0-9]+))?"
                     r"(?::(?P<name>[A-Za-z0-9_.-]+))?$")


class SectionName(NamedTuple):
    kind: str  # DEFAULT, env, resource, subset, config_sync, bad
    group: str | None = None  # resource and subset: the driver group
    subset: str | None = None  # subset: its name (None: the group's resources with none)


def parse_name(name: str) -> SectionName:
    if name in ("DEFAULT", "env"):
        return SectionName(name)
    if name == CONFIG_SYNC:
        return SectionName("config_sync", "sync")
    m = _SUBSET.match(name)
    if m:
        return SectionName("subset", m.group("group"), m.group("name"))
    m = _RESOURCE.match(name)
    if m and m.group("group") != "subset":
        return SectionName("resource", m.group("group"))
    return SectionName("bad")


def subset_key(group: str, name: str | None) -> str:
    """How a subset's section is known once read: ``subset#<group>[:<name>]``."""
    return f"subset#{group}:{name}" if name else f"subset#{group}"


def bad_name_reason(name: str) -> str:
    m = _SUBSET.match(name.replace(" ", ""))
    if name.startswith("subset#") and not m:
        return "bad subset section name: expected subset#GROUP or subset#GROUP:NAME"
    return ("bad section name: expected DEFAULT, env, DRIVER#ID (app#0, task#backup, sync#1) "
            "or subset#GROUP:NAME")


def subset_group_reason(group: str) -> str | None:
    """Why ``[subset#<group>:...]`` cannot be, or None."""
    if group in OPENSVC_GROUPS:
        return None
    return f"bad subset section: {group!r} is not a resource group ({', '.join(OPENSVC_GROUPS)})"


def unknown_group_reason(group: str) -> str | None:
    """None for a group we run; else the one-line reason the section is refused."""
    if group in DRIVERS:
        return None
    ours = ", ".join(sorted(DRIVERS))
    if group in OPENSVC_GROUPS:
        return f"driver {group} is not supported (supported drivers: {ours})"
    if group in V1_GROUPS:
        new, kind = V1_GROUPS[group]
        return (f"driver {group} (OpenSVC v1's name of {new} type {kind}) is not supported: "
                f"write it [{new}#N] with type = {kind}")
    return f"unknown resource driver {group!r}; supported: {ours}"


def unsupported_type_reason(group: str, type_value: str | None) -> str | None:
    """None when the registry's driver of ``group`` runs this ``type``; else why not. A
    driver that lists no types takes whatever its keyword table accepts."""
    types = DRIVERS[group].types
    if not types or type_value is None or type_value in types:
        return None
    known = OPENSVC_TYPES.get(group, ())
    if known is not None and type_value not in known:
        return None  # not an OpenSVC driver: the type keyword's own check says what is wrong
    return (f"driver {group} type {type_value} is not supported (supported {group} types: "
            f"{', '.join(types)})")
