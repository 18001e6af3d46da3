"""``type = forking`` apps (the default) through the real CLI: OpenSVC's launcher script
(``script`` with ``start = true``), pre/post hooks in om3's order, apps ordered by their
start numbers, the check's exit code read through retcodes, status_log, start_requires."""

from __future__ import annotations

import time
from pathlib import Path

from e2e_support import Node

CTL = """#!/bin/sh
# an OpenSVC launcher: $1 is start, stop, status or info
echo "$1 $OPENSVC_RID" >> {log}
case $1 in
start) touch {flag} ;;
stop) rm -f {flag} ;;
status) test -f {flag} ;;
info) echo "version: 1.2" ;;
esac
"""


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def app_status(node: Node, svc: str, rid: str = "app#0") -> dict:
    return node.status(svc)["resources"][rid]


def test_script_with_start_true_runs_the_launcher_with_the_action(node: Node, tmp_path):
    log, flag = tmp_path / "calls", tmp_path / "up"
    launcher = node.services / "svc.d" / "ctl.sh"  # a basename lives in <svc>.d (v2)
    launcher.parent.mkdir()
    launcher.write_text(CTL.format(log=log, flag=flag))
    launcher.chmod(0o755)
    node.write("svc", """
        [app#0]
        script = ctl.sh
        start = true
        stop = true
        check = true
        """)
    assert node.svcmgr("-s", "svc", "start").rc == 0
    assert lines(log) == ["status app#0", "start app#0"]  # not up yet: started
    assert app_status(node, "svc")["status"] == "up"
    assert node.svcmgr("-s", "svc", "start").rc == 0  # already up: the check says so
    assert lines(log)[-1] == "status app#0" and lines(log).count("start app#0") == 1
    assert node.svcmgr("-s", "svc", "stop").rc == 0
    assert lines(log)[-2:] == ["status app#0", "stop app#0"]
    assert app_status(node, "svc")["status"] == "down"
    assert node.svcmgr("-s", "svc", "stop").rc == 0  # already down: stop not run again
    assert lines(log).count("stop app#0") == 1
    launcher.unlink()  # the launcher gone (its filesystem not mounted here): nothing to stop
    assert node.svcmgr("-s", "svc", "stop").rc == 0
    st = app_status(node, "svc")
    assert st["status"] == "n/a" and "does not exist" in st["reason"]


def test_a_true_action_without_script_does_what_om3_does(node: Node):
    """om3's testdata [app#stopScriptUndef] (stop = true, script empty): the file is valid
    (validate warns), the service's stop runs nothing and says why (om3 fails the app's
    stop and a service stop ignores that), a start = true fails, a check = true is undef."""
    node.write("svc", """
        [app#stopScriptUndef]
        type = forking
        stop = true
        script =

        [app#check]
        start = /bin/true
        check = true
        """)
    res = node.svcmgr("-s", "svc", "validate", "config")
    assert res.rc == 0, res.err
    warned = [line for line in res.err.splitlines() if line.startswith("warning:")]
    assert len(warned) == 2, res.err
    assert "[app#stopScriptUndef] stop = true: means 'run <script> stop', but script is " \
        "not set: the stop runs nothing" in warned[0]
    assert "[app#check] check = true: means 'run <script> status', but script is not set: " \
        "the status is undef" in warned[1]
    assert node.svcmgr("-s", "svc", "start").rc == 0  # no start command: nothing to run
    st = node.status("svc")["resources"]
    assert st["app#stopScriptUndef"]["status"] == "up"
    assert st["app#check"]["status"] == "undef"
    assert "check = true means 'run <script> status', but script is not set" in \
        st["app#check"]["reason"]
    res = node.svcmgr("-s", "svc", "stop")
    assert res.rc == 0, res.err
    assert any(e["event"].startswith("stop runs nothing: stop = true means 'run <script> stop'")
               and e["level"] == "warning" for e in res.logs()), res.err
    assert app_status(node, "svc", "app#stopScriptUndef")["status"] == "down"
    node.write("svc", """
        [app#0]
        start = true
        """)
    res = node.svcmgr("-s", "svc", "start")
    assert res.rc == 1
    assert "start command cannot run: start = true means 'run <script> start', but script " \
        "is not set" in res.err


def test_hooks_run_in_om3s_order_and_only_blocking_ones_fail_the_action(node: Node, tmp_path):
    log = tmp_path / "order"

    def say(word: str) -> str:
        return f"sh -c 'echo {word} >> {log}'"

    node.write("svc", f"""
        [app#0]
        start = {say("start")}
        stop = {say("stop")}
        pre_start = sh -c 'echo pre_start >> {log}; exit 1'
        blocking_pre_start = {say("blocking_pre_start")}
        post_start = {say("post_start")}
        blocking_post_start = {say("blocking_post_start")}
        pre_stop = {say("pre_stop")}
        blocking_pre_stop = {say("blocking_pre_stop")}
        post_stop = {say("post_stop")}
        blocking_post_stop = {say("blocking_post_stop")}
        """)
    res = node.svcmgr("-s", "svc", "start")
    assert res.rc == 0, res.err
    assert "pre_start exited with code 1" in res.err  # logged, the start goes on
    assert node.svcmgr("-s", "svc", "stop").rc == 0
    assert lines(log) == ["blocking_pre_start", "pre_start", "start", "blocking_post_start",
                          "post_start", "blocking_pre_stop", "pre_stop", "stop",
                          "blocking_post_stop", "post_stop"]
    log.unlink()
    node.write("svc", f"""
        [app#0]
        start = {say("start")}
        blocking_pre_start = sh -c 'echo blocking_pre_start >> {log}; exit 4'
        post_start = {say("post_start")}
        """)
    res = node.svcmgr("-s", "svc", "start")
    assert res.rc == 1
    assert "app#0: blocking_pre_start exited with code 4" in res.err
    assert lines(log) == ["blocking_pre_start"]  # neither the start nor its post hooks


def test_apps_start_by_start_number_and_stop_in_reverse(node: Node, tmp_path):
    log = tmp_path / "order"
    ctl = tmp_path / "ctl.sh"
    ctl.write_text(f'#!/bin/sh\necho "$1 $OPENSVC_RID" >> {log}\n')
    ctl.chmod(0o755)
    node.write("svc", f"""
        [app#0]
        start = sh -c 'echo "start app#0" >> {log}'
        stop = sh -c 'echo "stop app#0" >> {log}'
        [app#web]
        script = {ctl}
        start = 20
        stop = true
        [app#db]
        script = {ctl}
        start = 10
        stop = true
        [app#1]
        script = {ctl}
        start = true
        stop = true
        """)
    assert node.svcmgr("-s", "svc", "start").rc == 0
    assert node.svcmgr("-s", "svc", "stop").rc == 0
    assert lines(log) == ["start app#db", "start app#web", "start app#0", "start app#1",
                          "stop app#1", "stop app#0", "stop app#web", "stop app#db"]


def test_retcodes_map_the_check_exit_code_and_status_log_shows_its_output(node: Node):
    node.write("svc", """
        [app#0]
        start = /bin/true
        check = sh -c 'echo disk 91% full; exit 3'
        retcodes = 0:up 1:down 3:warn
        status_log = true
        [app#1]
        start = /bin/true
        check = sh -c 'echo quiet; exit 5'
        retcodes = 0:up 1:down 3:warn
        [app#2]
        start = /bin/true
        check = sh -c 'exit 2'
        retcodes = 0:up 2:down
        [app#3]
        start = /bin/true
        check = sh -c 'exit 1'
        retcodes = 0:down 1:up
        """)
    resources = node.status("svc")["resources"]
    assert resources["app#0"]["status"] == "warn"
    assert resources["app#0"]["reason"] == "check exited with code 3; disk 91% full"
    assert resources["app#1"]["status"] == "warn"  # not in the map
    assert resources["app#1"]["reason"] == (
        "check exited with code 5, not in retcodes (0:up 1:down 3:warn)")  # no status_log
    assert resources["app#2"]["status"] == "down"
    assert resources["app#3"]["status"] == "up"
    assert node.status("svc")["avail"] == "warn"
    text = node.svcmgr("-s", "svc", "print", "status").out
    assert "(check exited with code 3; disk 91% full)" in text


def test_check_timeout_and_start_requires(node: Node):
    node.write("svc", """
        [app#0]
        start = /bin/false
        check = /bin/false
        optional = true
        [app#1]
        start = /bin/true
        check = /bin/sleep 5
        check_timeout = 1
        start_requires = app#0(up)
        """)
    t0 = time.monotonic()
    st = app_status(node, "svc", "app#1")
    assert time.monotonic() - t0 < 4
    assert st["status"] == "warn" and st["reason"] == "check command timed out after 1s"
    res = node.svcmgr("-s", "svc", "start")
    assert res.rc == 1
    assert "app#1: start requires app#0 in (up), but it is down" in res.err
