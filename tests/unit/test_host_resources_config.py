"""The pure parts of the ip, fs and disk drivers: their keyword converters (OpenSVC's size
syntax, netmasks, addresses), the parsing of mountinfo and of iproute2's JSON, the
references to exposed devices, and their config errors through parse_service."""

from __future__ import annotations

import json
import os
import time

import pytest

from orchestrator.config import types as t
from orchestrator.config.errors import ConfigError
from orchestrator.config.service import parse_service
from orchestrator.resources import exposed, fs_root, iface, mounts


@pytest.mark.parametrize("text,size", [
    ("4096", 4096), ("32m", 32 << 20), ("32M", 32 << 20), ("1g", 1 << 30), ("512MiB", 512 << 20),
    ("20MB", 20_000_000), ("2k", 2048), ("1.5g", 3 << 29), ("1,5g", 3 << 29), ("32 m", 32 << 20),
    ("10KB", 10_000), ("1t", 1 << 40),
])
def test_sizes_read_as_om3_reads_them(text, size):
    assert t.to_size(text) == size


@pytest.mark.parametrize("text", ["", "m", "32q", "-1m", "1.2.3g", "32 mb b"])
def test_bad_sizes(text):
    with pytest.raises(ValueError, match="expected a size"):
        t.to_size(text)


@pytest.mark.parametrize("text,prefix", [
    ("24", 24), ("0", 0), ("64", 64), ("128", 128), ("255.255.255.0", 24),
    ("255.255.255.128", 25), ("255.255.252.0", 22), ("0.0.0.0", 0), ("255.255.255.255", 32),
])
def test_netmasks_are_prefix_lengths_or_dotted(text, prefix):
    assert t.to_netmask(text) == prefix


@pytest.mark.parametrize("text,why", [
    ("129", "expected a prefix length"), ("255.0.255.0", "not contiguous"),
    ("255.255.256.0", "expected a prefix length"), ("/24", "expected a prefix length"),
    ("1.2.3", "expected a prefix length"),
])
def test_bad_netmasks(text, why):
    with pytest.raises(ValueError, match=why):
        t.to_netmask(text)


@pytest.mark.parametrize("text,value", [
    ("198.51.100.150", "198.51.100.150"), (" 198.51.100.150 ", "198.51.100.150"),
    ("2001:db8::1", "2001:db8::1"), ("db.example.com", "db.example.com"), ("web", "web"),
    ("svc_1.lan.", "svc_1.lan."),
])
def test_ip_names_are_addresses_or_host_names(text, value):
    assert t.to_address_or_hostname(text) == value


@pytest.mark.parametrize("text,why", [
    ("198.51.100.300", "expected an IP address or a host name"),
    ("198.51.100", "expected an IP address or a host name"),
    ("2001:db8::zz", "expected an IP address or a host name"),
    ("two words", "expected an IP address or a host name"),
    ("198.51.100.150/25", "without a prefix length"),
    ("-bad.example", "expected an IP address or a host name"),
])
def test_bad_ip_names(text, why):
    with pytest.raises(ValueError, match=why):
        t.to_address_or_hostname(text)


def test_interfaces_and_forced_labels():
    assert t.to_interface("eth0") == "eth0"
    assert t.to_interface("eth0:3") == "eth0:3"
    for bad, why in (("a" * 16, "at most 15"), ("eth0:x", "at most 15"), ("eth 0", "at most 15"),
                     ("mac0@eth0", "macvtap"), ("abcdefghijklm:12", "longer than 15")):
        with pytest.raises(ValueError, match=why):
            t.to_interface(bad)


def test_file_modes_and_the_root_directory_mode_om3_derives():
    assert t.to_file_mode("0640") == 0o640
    assert t.to_file_mode("755") == 0o755
    assert t.to_file_mode("1777") == 0o1777
    with pytest.raises(ValueError):
        t.to_file_mode("0859")
    assert fs_root.dir_mode({"dirperm": None, "perm": 0o640}) == 0o750
    assert fs_root.dir_mode({"dirperm": None, "perm": 0o604}) == 0o705
    assert fs_root.dir_mode({"dirperm": 0o700, "perm": 0o644}) == 0o700
    assert fs_root.dir_mode({"dirperm": None, "perm": None}) is None


MOUNTINFO = "\n".join([
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro",
    "43 22 7:0 / /srv/my\\040data rw,relatime shared:30 - ext4 /dev/loop0 rw",
    "44 22 7:0 /sub /srv/bound rw,relatime shared:30 - ext4 /dev/loop0 rw",
    "45 22 0:50 / /srv/tmp rw,nosuid master:3 - tmpfs none rw,size=4096k",
    "46 45 0:51 / /srv/tmp rw - tmpfs tmpfs rw",
    "47 22 0:52 / /srv/b rw,relatime - btrfs /dev/sdb rw,space_cache=v2",
    "48 22 0:53 / /srv/nofields rw - nfs4 host:/export rw",
])


def test_mountinfo_is_parsed_with_its_escapes_binds_and_stacks():
    table = mounts.parse_mountinfo(MOUNTINFO)
    assert len(table) == 7
    data = table[1]
    assert (data.mountpoint, data.device, data.fstype, data.source, data.root) == (
        "/srv/my data", (7, 0), "ext4", "/dev/loop0", "/")
    assert table[2].root == "/sub" and table[2].device == (7, 0)
    assert [m.mount_id for m in mounts.mounted_at(table, "/srv/tmp")] == [45, 46]
    assert table[3].options == ("rw", "nosuid") and "size=4096k" in table[3].super_options
    assert table[6].source == "host:/export"
    assert mounts.unescape("a\\011b\\134c\\012") == "a\tb\\c\n"


def test_mounts_of_a_device_are_found_by_numbers_wherever_they_are(tmp_path, monkeypatch):
    table = mounts.parse_mountinfo(MOUNTINFO)
    monkeypatch.setattr(mounts, "device_numbers", lambda dev: {(7, 0)})
    assert [m.mountpoint for m in mounts.mounts_of(table, "/dev/loop0")] == [
        "/srv/my data", "/srv/bound"]
    monkeypatch.setattr(mounts, "device_numbers", lambda dev: set())
    assert mounts.mounts_of(table, str(tmp_path / "nothing")) == []


IP_JSON = json.dumps([{
    "ifindex": 6, "ifname": "v1", "addr_info": [
        {"family": "inet", "local": "198.51.100.129", "prefixlen": 25, "label": "v1"},
        {"family": "inet", "local": "198.51.100.150", "prefixlen": 25, "label": "v1:0"},
        {"family": "inet6", "local": "fe80::1", "prefixlen": 64},
        {"family": "inet", "prefixlen": 32}]}])


def test_iproute2_json_gives_addresses_prefixes_and_labels():
    found = iface.parse_addresses(IP_JSON)
    assert [(str(p.address), p.prefix, p.label, p.dev) for p in found] == [
        ("198.51.100.129", 25, "v1", "v1"), ("198.51.100.150", 25, "v1:0", "v1"),
        ("fe80::1", 64, None, "v1")]
    assert iface.free_label("v1", found) == "v1:1"
    assert iface.free_label("v2", []) == "v2:0"
    assert iface.parse_addresses("") == []


def test_exposed_device_references_are_told_from_other_references():
    drivers = {"disk#1": "disk", "fs#1": "fs"}
    assert exposed.reference_problems("{disk#9.file} {nodename} {env.X} {fs#1.dev}", drivers) == []
    assert exposed.reference_problems("{disk#1.exposed_devs[0]}", drivers) == []
    assert exposed.reference_problems("{disk#1.exposed_devs}", drivers) == []
    assert exposed.reference_problems("{disk#2.exposed_devs[0]}", drivers) == [
        "no resource disk#2 in this service (reference {disk#2.exposed_devs[0]})"]
    assert exposed.reference_problems("{fs#1.exposed_devs[0]}", drivers) == [
        "fs#1 exposes no exposed_devs (reference {fs#1.exposed_devs[0]})"]


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_service(text, "svc.conf", "svc", "n1")
    return [str(p) for p in err.value.problems]


def test_v2_names_are_aliases_and_defaults_are_om3s():
    cfg = parse_service("[ip#0]\nipname = 198.51.100.150\nipdev = v1\n"
                        "[disk#1]\ntype = loop\nfile = /srv/d.img\nsize = 100m\n"
                        "[fs#1]\ntype = ext4\ndev = {disk#1.exposed_devs[0]}\nmnt = /srv/d\n"
                        "[fs#2]\ntype = flag\n", "svc.conf", "svc", "n1")
    ip = cfg.resources["ip#0"]
    assert (ip["name"], ip["dev"], ip["netmask"], ip["alias"], ip["check_carrier"]) == (
        "198.51.100.150", "v1", None, True, True)
    assert (ip["type"], ip["wait_dns"], ip["expose"]) == ("host", 0.0, ())
    assert cfg.resources["disk#1"]["size"] == 100 << 20
    fs = cfg.resources["fs#1"]
    assert fs["dev"] == "{disk#1.exposed_devs[0]}"  # expanded at run time, from the live disk
    assert (fs["stat_timeout"], fs["check_read"], fs["mkfs_opt"]) == (5.0, False, ())


@pytest.mark.parametrize("text,expected", [
    ("[ip#0]\nname = 198.51.100.300\ndev = v1\n",
     "svc.conf:2: [ip#0] name = 198.51.100.300: invalid address or host name"),
    ("[ip#0]\nname = 198.51.100.150\ndev = v1\nnetmask = 255.0.255.0\n",
     "svc.conf:4: [ip#0] netmask = 255.0.255.0: invalid netmask: the dotted netmask's bits"),
    ("[ip#0]\nname = 198.51.100.150\ndev = v1\nnetmask = 33\n",
     "svc.conf:4: [ip#0] netmask = 33: longer than 32 bits (198.51.100.150)"),
    ("[ip#0]\nname = 198.51.100.150\n", "svc.conf:1: [ip#0] dev: required keyword is missing"),
    ("[ip#0]\ntype = cni\nname = a\ndev = v1\n",
     "svc.conf:1: [ip#0]: driver ip type cni is not supported (supported ip types: host)"),
    ("[fs#1]\ntype = ext4\ndev = /dev/sdb1\n",
     "[fs#1] mnt: required keyword is missing (type ext4)"),
    ("[fs#1]\ntype = ext4\nmnt = /srv/x\n", "[fs#1] dev: required keyword is missing (type ext4)"),
    ("[fs#1]\ntype = xfs\ndev = /dev/sdb1\nmnt = srv/x\n",
     "svc.conf:4: [fs#1] mnt = srv/x: expected an absolute path other than /"),
    ("[fs#1]\ntype = vfat\ndev = /dev/sdb1\nmnt = /srv/x\n",
     "svc.conf:1: [fs#1]: driver fs type vfat is not supported (supported fs types: ext2,"),
    ("[fs#1]\ntype = ext4\ndev = {disk#9.exposed_devs[0]}\nmnt = /srv/x\n",
     "svc.conf:3: [fs#1] dev = {disk#9.exposed_devs[0]}: unresolved reference "
     "{disk#9.exposed_devs[0]}: no section [disk#9] in this service"),
    ("[fs#1]\ntype = ext4\ndev = {fs#2.exposed_devs[0]}\nmnt = /srv/x\n[fs#2]\ntype = flag\n",
     "svc.conf:3: [fs#1] dev = {fs#2.exposed_devs[0]}: fs#2 exposes no exposed_devs"),
    ("[fs#1]\ntype = tmpfs\nmnt = /srv/x\nsecrets = sec/s:/k\n",
     "svc.conf:4: [fs#1] secrets = sec/s:/k: not supported: it installs keys"),
    ("[disk#1]\ntype = loop\nfile = /srv/d.img\nsize = 32q\n",
     "svc.conf:4: [disk#1] size = 32q: invalid size"),
    ("[disk#1]\ntype = loop\n", "[disk#1] file: required keyword is missing"),
    ("[disk#1]\ntype = lvm\nfile = /x\n",
     "svc.conf:1: [disk#1]: driver disk type lvm is not supported (supported disk types: loop)"),
])
def test_config_errors_are_one_line_naming_file_section_keyword_and_value(text, expected):
    problems = _problems(text)
    assert len(problems) == 1, problems
    assert expected in problems[0], problems


def test_a_host_name_is_looked_up_and_cached_and_the_cache_serves_when_lookups_fail(
        tmp_path, monkeypatch):
    from orchestrator.resources import ipname

    first = ipname.resolve("localhost", tmp_path)  # a real lookup (/etc/hosts)
    assert first.address.is_loopback and first.age == 0.0
    assert (tmp_path / "localhost").read_text() == str(first.address)
    assert ipname.resolve("198.51.100.150", tmp_path).age == 0.0  # a literal is itself
    assert not (tmp_path / "198.51.100.150").exists()

    def failing(name):
        raise OSError(f"lookup of {name} failed: no DNS")

    monkeypatch.setattr(ipname, "_lookup", failing)
    cached = ipname.resolve("localhost", tmp_path)
    assert cached.address == first.address and 0 < cached.age < 60 and not cached.expired
    assert "no DNS; using the cached" in cached.warning
    old = time.time() - 20 * 60
    os.utime(tmp_path / "localhost", (old, old))
    assert ipname.resolve("localhost", tmp_path).expired  # om3: 19 minutes at most
    with pytest.raises(ipname.Unresolvable, match="no DNS, and no cached address"):
        ipname.resolve("db.example", tmp_path)
