"""The ip, disk (loop) and fs drivers through ``svcmgr`` on a standalone node, on real
parts: addresses on veth pairs into a LAN namespace (pinged from there), loop devices,
ext4, tmpfs and bind mounts, flag files. Everything is removed afterwards, even when a test
fails (tests/host_support.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from e2e_support import Node, recording_shim

from tests.host_support import (
    addresses_on,
    free_address,
    host_scratch,
    lan,
    loop_devices_of,
    mountpoint_source,
    sh,
)


@pytest.fixture
def net():
    with lan(interfaces=1) as segment:
        yield segment


@pytest.fixture
def scratch(tmp_path: Path):
    with host_scratch(tmp_path / "host") as directory:
        yield directory


def _resources(node, svc: str) -> dict:
    return node.status(svc)["resources"]


def test_an_address_started_answers_on_the_lan_and_is_gone_after_stop(node, net):
    addr, dev = free_address(), net.interfaces[0]
    node.write("web", f"""
        [ip#0]
        ipname = {addr}
        ipdev = {dev}
        netmask = 255.255.255.128
    """)
    res = node.svcmgr("-s", "web", "start")
    assert res.rc == 0, res.err
    assert f"{addr}/25" in addresses_on(dev)
    assert net.ping(addr)
    assert any(f"arping -U -c 1 -I {dev} {addr}" in e for e in res.events())
    status = node.status("web")
    assert status["avail"] == "up"
    assert _resources(node, "web")["ip#0"]["status"] == "up"
    assert _resources(node, "web")["ip#0"]["label"] == f"{addr}/25 {dev}"
    again = node.svcmgr("-s", "web", "start")
    assert again.rc == 0 and f"{addr} is already up on {dev}" in again.events()
    assert node.svcmgr("-s", "web", "stop").rc == 0
    assert f"{addr}/25" not in addresses_on(dev)
    assert not net.ping(addr)
    assert _resources(node, "web")["ip#0"]["status"] == "down"
    stopped = node.svcmgr("-s", "web", "stop")
    assert stopped.rc == 0 and f"{addr} is already down on {dev}" in stopped.events()


def test_one_listing_of_the_interfaces_serves_every_address_status(node, net, tmp_path):
    """Three addresses (two up, one never started) and a missing interface: one status asks
    iproute2 once (``ip -j addr show``), and reads each right."""
    dev = net.interfaces[0]
    first = free_address()
    second = free_address(first)
    third = free_address(first, second)
    config = "".join(f"""
        [ip#{i}]
        ipname = {addr}
        ipdev = {dev}
        netmask = 255.255.255.128
        {"disable = true" if i == 2 else ""}
    """ for i, addr in enumerate((first, second, third)))
    node.write("web", config)
    assert node.svcmgr("-s", "web", "start").rc == 0
    node.write("web", config + f"""
        [ip#3]
        ipname = {third}
        ipdev = nosuchdev0
    """)
    env, calls = recording_shim(tmp_path, "ip")
    res = node.svcmgr("-s", "web", "print", "status", "--format", "json", env=env)
    assert res.rc == 0, res.err
    found = res.json()["resources"]
    assert [found[f"ip#{i}"]["status"] for i in (0, 1)] == ["up", "up"]
    assert found["ip#3"]["status"] == "down"
    assert found["ip#3"]["reason"] == "no interface nosuchdev0 on this node"
    asked = [c for c in calls.read_text().splitlines() if "addr" in c]
    assert asked == ["-j addr show"], asked
    assert node.svcmgr("-s", "web", "stop").rc == 0
    assert not {f"{first}/25", f"{second}/25"} & set(addresses_on(dev))


@pytest.mark.parametrize("routed", [False, True], ids=["arp-only", "routed"])
def test_a_start_is_refused_when_the_address_answers_elsewhere(node, net, routed):
    """Not routed: only ARP on the interface sees the other holder (om3's ping goes to the
    default route); routed (the node has an address on that LAN): ping sees it too."""
    addr, dev = free_address(), net.interfaces[0]
    if routed:
        sh("ip", "addr", "add", f"{free_address(addr)}/25", "dev", dev)
    net.hold(addr)
    node.write("web", f"[ip#0]\nname = {addr}\ndev = {dev}\nnetmask = 25\n")
    res = node.svcmgr("-s", "web", "start")
    assert res.rc == 1, res.err
    why = "answers ping" if routed else "answers ARP"
    assert any(why in e and "it is up elsewhere" in e for e in res.events()), res.err
    assert not [a for a in addresses_on(dev) if a.startswith(f"{addr}/")]
    assert _resources(node, "web")["ip#0"]["status"] == "down"
    net.release(addr)
    assert node.svcmgr("-s", "web", "start").rc == 0
    assert net.ping(addr)
    assert node.svcmgr("-s", "web", "stop").rc == 0


def test_netmask_defaults_to_the_interfaces_and_alias_false_stacks_a_label(node, net):
    dev = net.interfaces[0]
    base = free_address()
    sh("ip", "addr", "add", f"{base}/25", "dev", dev)
    addr = free_address()
    node.write("web", f"[ip#0]\nname = {addr}\ndev = {dev}\nalias = false\n")
    assert node.svcmgr("-s", "web", "start").rc == 0
    assert f"{addr}/25" in addresses_on(dev)
    assert _resources(node, "web")["ip#0"]["label"] == f"{addr}/25 {dev} label {dev}:0"
    assert net.ping(addr)
    assert node.svcmgr("-s", "web", "stop").rc == 0
    assert addresses_on(dev)[0] == f"{base}/25" and f"{addr}/25" not in addresses_on(dev)


def test_a_failed_announce_is_a_warning_and_the_address_is_up(node, net):
    """arping refuses an interface that is down; the address is added all the same (om3
    fails the start there; the announce is only a cache refresh for the peers)."""
    addr, dev = free_address(), net.interfaces[0]
    sh("ip", "link", "set", dev, "down")
    node.write("web", f"[ip#0]\nname = {addr}\ndev = {dev}\nnetmask = 25\n"
                      "check_carrier = false\n")
    res = node.svcmgr("-s", "web", "start")
    assert res.rc == 0, res.err
    warned = [e for e in res.logs() if e["level"] == "warning"]
    assert [e["event"] for e in warned] == [
        f"gratuitous ARP announce failed (the address is up): arping -U -c 1 -I {dev} {addr} "
        f"exited with code 2: Interface \"{dev}\" is down"]
    assert f"{addr}/25" in addresses_on(dev)
    assert node.svcmgr("-s", "web", "stop").rc == 0


def test_an_unknown_interface_fails_the_start_naming_the_keyword(node):
    path = node.write("web", f"[ip#0]\nname = {free_address()}\nipdev = nosuchif0\nnetmask = 25\n")
    assert node.svcmgr("-s", "web", "validate", "config").rc == 0  # only the node can know
    res = node.svcmgr("-s", "web", "start")
    assert res.rc == 1
    assert f"{path}:3: [ip#0] dev = nosuchif0: no such interface on this node" in res.events()
    assert node.svcmgr("-s", "web", "stop").rc == 0  # nothing to remove
    assert _resources(node, "web")["ip#0"]["reason"] == "no interface nosuchif0 on this node"


def _db_config(scratch: Path) -> str:
    return f"""
        [disk#1]
        type = loop
        file = {scratch}/img/disk1.img
        size = 32m

        [fs#1]
        type = ext4
        dev = {{disk#1.exposed_devs[0]}}
        mnt = {scratch}/mnt/data
        perm = 0640
        directories = db
    """


def test_ext4_on_a_loop_disk_mounts_keeps_its_data_and_unmounts(node, scratch):
    node.write("db", _db_config(scratch))
    image, mnt = scratch / "img" / "disk1.img", scratch / "mnt" / "data"
    res = node.svcmgr("-s", "db", "start")
    assert res.rc == 0, res.err
    (loop,) = loop_devices_of(image)
    assert os.stat(image).st_size == 32 << 20 and os.stat(image).st_blocks * 512 < 32 << 20
    assert mountpoint_source(mnt) == loop
    assert oct(os.stat(mnt).st_mode & 0o777) == oct(0o750) and (mnt / "db").is_dir()
    resources = _resources(node, "db")
    assert resources["disk#1"]["status"] == "up" and loop in resources["disk#1"]["label"]
    assert resources["fs#1"]["status"] == "up"
    assert resources["fs#1"]["label"] == f"{loop}@{mnt}"
    (mnt / "db" / "rows").write_text("42\n")
    holder = subprocess.Popen(["sleep", "300"], cwd=mnt / "db")  # keeps the mount busy
    try:
        res = node.svcmgr("-s", "db", "stop")
        assert res.rc == 0, res.err
        assert holder.wait(timeout=10) == -9  # om3 kills the users of a busy mount
    finally:
        holder.kill()
    assert mountpoint_source(mnt) is None and loop_devices_of(image) == []
    resources = _resources(node, "db")
    assert resources["fs#1"]["status"] == "down" and resources["disk#1"]["status"] == "down"
    assert "disk#1 exposes no device: it is not up" in resources["fs#1"]["reason"]
    assert node.svcmgr("-s", "db", "start").rc == 0
    assert (mnt / "db" / "rows").read_text() == "42\n"  # formatted once, at the first start
    assert node.svcmgr("-s", "db", "stop").rc == 0
    assert node.svcmgr("-s", "db", "stop").rc == 0


def test_a_device_mounted_elsewhere_is_not_mounted_twice(node, scratch):
    """By the device itself and by its image file (the loop devices backed by it)."""
    image = scratch / "other.img"
    sh("truncate", "-s", "32M", str(image))
    sh("mkfs.ext4", "-q", str(image))
    loop = sh("losetup", "-f", "--show", str(image)).stdout.strip()
    elsewhere = scratch / "elsewhere"
    elsewhere.mkdir()
    sh("mount", loop, str(elsewhere))
    mnt = scratch / "mnt"
    for dev in (loop, str(image)):
        node.write("db", f"[fs#1]\ntype = ext4\ndev = {dev}\nmnt = {mnt}\n")
        res = node.svcmgr("-s", "db", "start")
        assert res.rc == 1, res.err
        assert any(f"is already mounted on {elsewhere}: refusing to mount it on {mnt} too "
                   "(a double mount)" in e for e in res.events()), res.err
        assert mountpoint_source(mnt) is None
    sh("umount", str(elsewhere))
    sh("losetup", "-d", loop)
    # an image file is mounted through a loop device; its status compares by device
    res = node.svcmgr("-s", "db", "start")
    assert res.rc == 0, res.err
    assert mountpoint_source(mnt).startswith("/dev/loop")
    assert _resources(node, "db")["fs#1"]["status"] == "up"
    assert node.svcmgr("-s", "db", "stop").rc == 0
    assert mountpoint_source(mnt) is None
    assert _resources(node, "db")["fs#1"]["status"] == "down"


def test_flag_tmpfs_and_bind_filesystems(node, scratch):
    (scratch / "src").mkdir()
    (scratch / "src" / "seen").write_text("x")
    node.write("misc", f"""
        [fs#1]
        type = flag

        [fs#2]
        type = tmpfs
        mnt = {scratch}/tmp
        mnt_opt = size=4m,mode=0700

        [fs#3]
        type = bind
        dev = {scratch}/src
        mnt = {scratch}/bound
    """)
    flag = node.root / "dev" / "shm" / "orchestrator" / "svc" / "misc" / "fs#1.flag"
    assert node.svcmgr("-s", "misc", "start").rc == 0
    assert flag.is_file()
    found = sh("findmnt", "-n", "-o", "FSTYPE,OPTIONS", str(scratch / "tmp")).stdout
    assert found.startswith("tmpfs") and "size=4096k" in found and "mode=700" in found
    assert (scratch / "bound" / "seen").read_text() == "x"
    resources = _resources(node, "misc")
    assert {rid: r["status"] for rid, r in resources.items()} == {
        "fs#1": "up", "fs#2": "up", "fs#3": "up"}
    assert resources["fs#1"]["label"] == str(flag)
    assert node.svcmgr("-s", "misc", "stop").rc == 0
    assert not flag.exists()
    assert mountpoint_source(scratch / "tmp") is None
    assert mountpoint_source(scratch / "bound") is None
    assert {r["status"] for r in _resources(node, "misc").values()} == {"down"}


@pytest.mark.parametrize("text,expected", [
    ("[fs#1]\ntype = ext4\ndev = /dev/no-such-disk-o1\nmnt = {scratch}/m\n",
     "svc.conf:3: [fs#1] dev = /dev/no-such-disk-o1: device /dev/no-such-disk-o1 does not "
     "exist"),
    ("[disk#1]\ntype = loop\nfile = {scratch}/none.img\n",
     "svc.conf: [disk#1] size: not set, and the file {scratch}/none.img does not exist"),
    ("[fs#1]\ntype = ext4\ndev = {{disk#1.exposed_devs[0]}}\nmnt = {scratch}/m\n"
     "[disk#1]\ntype = loop\nfile = {scratch}/d.img\ndisable = true\n",
     "svc.conf:3: [fs#1] dev = {{disk#1.exposed_devs[0]}}: disk#1 exposes no device: it is "
     "not up"),
    ("[fs#1]\ntype = tmpfs\nmnt = {scratch}/m\nuser = no-such-user-o1\n",
     "svc.conf:4: [fs#1] user = no-such-user-o1: no such user on this node"),
])
def test_run_time_problems_fail_the_start_with_one_line(node, scratch, text, expected):
    path = node.services / "svc.conf"
    path.write_text(text.format(scratch=scratch))
    assert node.svcmgr("-s", "svc", "validate", "config").rc == 0
    res = node.svcmgr("-s", "svc", "start")
    assert res.rc == 1
    want = expected.format(scratch=scratch)
    assert any(want in e for e in res.events()), res.err
    assert node.svcmgr("-s", "svc", "stop").rc == 0


BAD = {
    "bad_address": ("[ip#0]\nname = 198.51.100.300\ndev = v1\n",
                    "svc.conf:2: [ip#0] name = 198.51.100.300: invalid address or host name"),
    "bad_netmask": ("[ip#0]\nname = 198.51.100.150\ndev = v1\nnetmask = 255.0.255.0\n",
                    "svc.conf:4: [ip#0] netmask = 255.0.255.0: invalid netmask"),
    "long_netmask": ("[ip#0]\nname = 198.51.100.150\ndev = v1\nnetmask = 64\n",
                     "svc.conf:4: [ip#0] netmask = 64: longer than 32 bits"),
    "missing_dev": ("[ip#0]\nname = 198.51.100.150\n",
                    "svc.conf:1: [ip#0] dev: required keyword is missing"),
    "bad_dev": ("[ip#0]\nname = 198.51.100.150\ndev = a-very-long-interface0\n",
                "svc.conf:3: [ip#0] dev = a-very-long-interface0: invalid interface"),
    "fs_missing_mnt": ("[fs#1]\ntype = xfs\ndev = /dev/sdz\n",
                       "svc.conf:1: [fs#1] mnt: required keyword is missing (type xfs)"),
    "fs_bad_type": ("[fs#1]\ntype = ntfs\ndev = /dev/sdz\nmnt = /srv/x\n",
                    "svc.conf:1: [fs#1]: driver fs type ntfs is not supported"),
    "fs_missing_disk": ("[fs#1]\ntype = ext4\ndev = {disk#7.exposed_devs[0]}\nmnt = /srv/x\n",
                        "svc.conf:3: [fs#1] dev = {disk#7.exposed_devs[0]}: unresolved "
                        "reference {disk#7.exposed_devs[0]}: no section [disk#7]"),
    "fs_not_a_disk": ("[fs#1]\ntype = ext4\ndev = {fs#2.exposed_devs[0]}\nmnt = /srv/x\n"
                      "[fs#2]\ntype = flag\n",
                      "svc.conf:3: [fs#1] dev = {fs#2.exposed_devs[0]}: fs#2 exposes no "
                      "exposed_devs"),
    "disk_bad_size": ("[disk#1]\ntype = loop\nfile = /srv/d.img\nsize = lots\n",
                      "svc.conf:4: [disk#1] size = lots: invalid size"),
    "disk_missing_type": ("[disk#1]\nfile = /srv/d.img\n",
                          "svc.conf:1: [disk#1] type: required keyword is missing"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_driver_configs_exit_2_with_one_line(node, case):
    text, expected = BAD[case]
    path = node.services / "svc.conf"
    path.write_text(text)
    for action in (["validate", "config"], ["start"]):
        res = node.svcmgr("-s", "svc", *action)
        assert res.rc == 2, (action, res.err)
        lines = res.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), res.err
        assert expected in lines[0], res.err


def test_the_fence_keeper_stops_everything_from_the_config_alone(node, net, scratch):
    """The keeper runs the drivers' stop in a process of its own, with the config it was
    handed and nothing else (here: this test's process, after svcmgr started the service)."""
    from orchestrator.config.node import load_node_config
    from orchestrator.fence.stop import stop_services
    from orchestrator.paths import NodePaths

    addr, dev = free_address(), net.interfaces[0]
    text = _db_config(scratch) + f"""
        [ip#0]
        name = {addr}
        dev = {dev}
        netmask = 25

        [fs#2]
        type = flag
    """
    path = node.write("db", text)
    assert node.svcmgr("-s", "db", "start").rc == 0
    assert net.ping(addr) and mountpoint_source(scratch / "mnt" / "data")
    (node.root / "etc" / "orchestrator" / "node.conf").write_text("[node]\nname = n1\n")
    said: list[str] = []
    codes = stop_services(load_node_config(NodePaths(node.root)), {"db": path.read_text()},
                          said.append)
    assert codes == {"db": 0}, said
    assert not net.ping(addr) and f"{addr}/25" not in addresses_on(dev)
    assert mountpoint_source(scratch / "mnt" / "data") is None
    assert loop_devices_of(scratch / "img" / "disk1.img") == []
    assert {r["status"] for r in _resources(node, "db").values()} == {"down"}


def test_a_loop_device_still_mounted_is_not_detached(node, scratch):
    image = scratch / "d.img"
    node.write("d", f"[disk#1]\ntype = loop\nfile = {image}\nsize = 16m\n")
    assert node.svcmgr("-s", "d", "start").rc == 0
    (loop,) = loop_devices_of(image)
    sh("mkfs.ext4", "-q", loop)
    (scratch / "by-hand").mkdir()
    sh("mount", loop, str(scratch / "by-hand"))
    res = node.svcmgr("-s", "d", "stop")
    assert res.rc == 1
    assert any(f"{loop} ({image}) is still mounted on {scratch}/by-hand: not detached" in e
               for e in res.events()), res.err
    assert loop_devices_of(image) == [loop]
    sh("umount", str(scratch / "by-hand"))
    assert node.svcmgr("-s", "d", "stop").rc == 0
    assert loop_devices_of(image) == []


def test_two_nodes_on_one_host_move_the_address_the_disk_and_the_data(tmp_path, scratch):
    """The lead's two-node layout without daemons: n1 and n2 share this host (its network
    stack, its loop devices), each with a veth into the LAN and its own mount point. What one
    node holds is down on the other, and a start there is refused until it lets go."""
    n1, n2 = Node(tmp_path / "n1", "n1"), Node(tmp_path / "n2", "n2")
    with lan(interfaces=2) as segment:
        addr = free_address()
        text = f"""
            [DEFAULT]
            nodes = n1 n2

            [ip#0]
            name = {addr}
            netmask = 25
            dev@n1 = {segment.interfaces[0]}
            dev@n2 = {segment.interfaces[1]}

            [disk#1]
            type = loop
            file = {scratch}/shared/disk1.img
            size = 32m

            [fs#1]
            type = ext4
            dev = {{disk#1.exposed_devs[0]}}
            mnt@n1 = {scratch}/n1/data
            mnt@n2 = {scratch}/n2/data
        """
        n1.write("db", text)
        n2.write("db", text)
        assert n1.svcmgr("-s", "db", "start").rc == 0
        (scratch / "n1" / "data" / "rows").write_text("from n1\n")
        assert n1.status("db")["avail"] == "up"
        passive = n2.status("db")
        assert passive["avail"] == "down", passive
        assert passive["resources"]["disk#1"]["reason"].endswith("not by this node")
        refused = n2.svcmgr("-s", "db", "start")
        assert refused.rc == 1
        assert any(f"{addr} is already up on this node's interface {segment.interfaces[0]}"
                   in e for e in refused.events()), refused.err
        assert n1.svcmgr("-s", "db", "stop").rc == 0
        assert n2.svcmgr("-s", "db", "start").rc == 0
        assert (scratch / "n2" / "data" / "rows").read_text() == "from n1\n"
        assert f"{addr}/25" in addresses_on(segment.interfaces[1])
        assert f"{addr}/25" not in addresses_on(segment.interfaces[0])
        assert segment.ping(addr)
        assert n1.status("db")["avail"] == "down" and n2.status("db")["avail"] == "up"
        assert n2.svcmgr("-s", "db", "stop").rc == 0
        assert loop_devices_of(scratch / "shared" / "disk1.img") == []
