"""`svcmgr sync` with the real rsync, and `svcmgr compliance check|fix` with real modules."""

from __future__ import annotations

import os
import time

from e2e_support import Node


def sync_service(node: Node, peer: str) -> None:
    node.write("data", f"""
        [DEFAULT]
        nodes = n1 {peer}

        [sync#0]
        src = {node.root}/data/{{nodename}}
        """)


def test_sync_copies_changed_and_removed_files_to_a_local_peer(node: Node) -> None:
    sync_service(node, "localhost")  # a peer on this machine gets a local rsync copy
    src = node.root / "data" / "n1"
    src.mkdir(parents=True)
    (src / "a.txt").write_text("one")
    (src / "b.txt").write_text("two")
    res = node.svcmgr("-s", "data", "sync")
    assert res.rc == 0, res.err
    dst = node.root / "data" / "localhost"
    assert (dst / "a.txt").read_text() == "one"
    (src / "a.txt").write_text("one, changed")
    (src / "b.txt").unlink()
    assert node.svcmgr("-s", "data", "sync").rc == 0
    assert (dst / "a.txt").read_text() == "one, changed"
    assert not (dst / "b.txt").exists()
    assert node.status("data")["resources"]["sync#0"]["status"] == "up"


def test_a_change_within_the_same_second_of_the_same_size_is_synchronized(node: Node) -> None:
    """rsync's quick check compares whole seconds by default: a file rewritten with as many
    bytes in the second of its last sync would never reach the peer (found by a cluster
    test that wrote v1 then v2). The nanoseconds count (``--modify-window=-1``)."""
    sync_service(node, "localhost")
    src = node.root / "data" / "n1"
    src.mkdir(parents=True)
    (src / "a.txt").write_text("v1")
    second = int(time.time()) - 5
    os.utime(src / "a.txt", ns=(second * 10**9 + 100, second * 10**9 + 100))
    assert node.svcmgr("-s", "data", "sync").rc == 0
    dst = node.root / "data" / "localhost"
    assert (dst / "a.txt").read_text() == "v1"
    (src / "a.txt").write_text("v2")  # same size, and the same second once touched back
    os.utime(src / "a.txt", ns=(second * 10**9 + 900_000, second * 10**9 + 900_000))
    assert node.svcmgr("-s", "data", "sync").rc == 0
    assert (dst / "a.txt").read_text() == "v2"


def test_failed_sync_marks_the_resource_warn_with_the_reason(node: Node) -> None:
    sync_service(node, "no-such-peer.invalid")
    (node.root / "data" / "n1").mkdir(parents=True)
    res = node.svcmgr("-s", "data", "sync")
    assert res.rc == 1
    assert any("no-such-peer.invalid: rsync exited with code" in e for e in res.events())
    sync = node.status("data")["resources"]["sync#0"]
    assert sync["status"] == "warn"
    assert "no-such-peer.invalid" in sync["reason"]


def test_sync_without_sync_resources_is_bad_usage(node: Node) -> None:
    node.write("plain", "[task#0]\ncommand = /bin/true\n")
    res = node.svcmgr("-s", "plain", "sync")
    assert res.rc == 2 and "has no sync resource" in res.err


def write_module(node: Node, name: str, code: int) -> None:
    modules = node.var / "compliance" / "modules"
    modules.mkdir(parents=True, exist_ok=True)
    path = modules / name
    path.write_text(f'#!/bin/sh\necho "{name} $1 $ORCHESTRATOR_SVCNAME"\nexit {code}\n')
    os.chmod(path, 0o755)


def test_compliance_modules_report_ok_nok_na_and_error(node: Node) -> None:
    node.write("svc", "[task#0]\ncommand = /bin/true\n")
    for name, code in (("10-ok", 0), ("20-nok", 1), ("30-na", 2), ("40-broken", 7)):
        write_module(node, name, code)
    res = node.svcmgr("-s", "svc", "compliance", "check", "--format", "json")
    assert res.rc == 1, res.err
    got = {r["module"]: (r["status"], r["action"], r["detail"]) for r in res.json()}
    assert got == {
        "10-ok": ("ok", "check", "10-ok check svc"),
        "20-nok": ("nok", "check", "20-nok check svc"),
        "30-na": ("n/a", "check", "30-na check svc"),
        "40-broken": ("error", "check", "40-broken check svc"),
    }


def test_compliance_fix_and_named_modules(node: Node) -> None:
    node.write("svc", "[DEFAULT]\ncomp_modules = 10-ok\n[task#0]\ncommand = /bin/true\n")
    write_module(node, "10-ok", 0)
    write_module(node, "20-nok", 1)
    res = node.svcmgr("-s", "svc", "compliance", "fix", "--format", "json")
    assert res.rc == 0, res.err
    assert [(r["module"], r["action"]) for r in res.json()] == [("10-ok", "fix")]


def test_compliance_names_a_missing_module(node: Node) -> None:
    node.write("svc", "[DEFAULT]\ncomp_modules = nope\n[task#0]\ncommand = /bin/true\n")
    res = node.svcmgr("-s", "svc", "compliance", "check")
    assert res.rc == 2
    assert "comp_modules" in res.err and "'nope'" in res.err
    assert "Traceback" not in res.err
