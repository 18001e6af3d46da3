"""``type = simple`` apps through the real CLI: svcmgr starts a foreground process detached
in its own session and exits; the status follows that process (pidfile: pid + create time);
stop SIGTERMs it and SIGKILLs it after stop_timeout; limits reach the process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from e2e_support import Node

from orchestrator.devtools.waiting import wait_until


def pidfile(node: Node, svc: str, rid: str = "app#0") -> Path:
    return node.svc_var(svc) / "resources" / f"{rid}.pid"


def tracked(node: Node, svc: str, rid: str = "app#0") -> dict:
    return json.loads(pidfile(node, svc, rid).read_text())


def alive(pid: int) -> bool:
    """Running, not a zombie (a killed orphan nobody reaps stays one on this machine)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def with_token(token: str) -> list[int]:
    pids = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if proc.environ().get("ORCHESTRATOR_RUN_TOKEN") == token and alive(proc.pid):
                pids.append(proc.pid)
    return pids


def wait(predicate, timeout: float = 10.0, what: str = "condition"):
    return wait_until(predicate, timeout, 0.05, what)


@pytest.fixture
def node(node: Node):
    """The node, and afterwards no process left of any app it started (even on failure)."""
    try:
        yield node
    finally:
        for path in node.var.glob("services/*/resources/*.pid"):
            with contextlib.suppress(OSError, ValueError, KeyError):
                for pid in with_token(json.loads(path.read_text())["token"]):
                    os.kill(pid, signal.SIGKILL)


def app_status(node: Node, svc: str, rid: str = "app#0") -> dict:
    return node.status(svc)["resources"][rid]


def test_a_simple_app_runs_detached_with_its_limits_and_stops(node: Node):
    node.write("svc", """
        [app#0]
        type = simple
        start = /bin/sleep 300
        limit_nofile = 1000
        limit_as = 1g
        limit_cpu = 1h
        """)
    started = node.popen("-s", "svc", "start")
    assert started.wait(30) == 0, started.stderr.read()
    assert app_status(node, "svc") == {"status": "up", "label": "simple", "optional": False,
                                       "disabled": False}
    pid = tracked(node, "svc")["pid"]
    proc = psutil.Process(pid)
    assert proc.cmdline() == ["/bin/sleep", "300"]
    assert os.getsid(pid) == pid and os.getpgid(pid) == pid  # a session of its own
    assert alive(pid) and proc.ppid() != started.pid  # it outlives svcmgr, not its child
    assert tracked(node, "svc")["started"] == pytest.approx(proc.create_time(), abs=0.01)
    limits = Path(f"/proc/{pid}/limits").read_text()
    assert "Max open files            1000                 1000" in limits
    assert "Max address space         1073741824           1073741824" in limits
    assert "Max cpu time              3600                 3600" in limits
    again = node.svcmgr("-s", "svc", "start")  # already up: no second process
    assert again.rc == 0 and "already up (pid" in again.err and tracked(node, "svc")["pid"] == pid
    res = node.svcmgr("-s", "svc", "stop")
    assert res.rc == 0, res.err
    assert not alive(pid) and not pidfile(node, "svc").exists()
    assert app_status(node, "svc")["status"] == "down"
    assert node.svcmgr("-s", "svc", "stop").rc == 0  # idempotent


def test_a_process_ignoring_sigterm_is_killed_after_stop_timeout(node: Node):
    node.write("svc", """
        [app#0]
        type = simple
        start = trap '' TERM; while :; do sleep 0.1; done
        stop_timeout = 1500ms
        """)
    assert node.svcmgr("-s", "svc", "start").rc == 0
    pid = tracked(node, "svc")["pid"]
    t0 = time.monotonic()
    res = node.svcmgr("-s", "svc", "stop")
    took = time.monotonic() - t0
    assert res.rc == 0, res.err
    assert 1.5 <= took < 5, took
    events = res.events()
    assert f"SIGTERM sent to the process tree of pid {pid}, SIGKILL in 1.5s" in events
    assert f"pid {pid} still alive after 1.5s: SIGKILL" in events
    assert not alive(pid) and app_status(node, "svc")["status"] == "down"


def test_a_killed_process_shows_down_and_stop_still_succeeds(node: Node):
    node.write("svc", "[app#0]\ntype = simple\nstart = /bin/sleep 300\n")
    assert node.svcmgr("-s", "svc", "start").rc == 0
    pid = tracked(node, "svc")["pid"]
    os.kill(pid, signal.SIGKILL)
    wait(lambda: not alive(pid), what="the app died")
    st = app_status(node, "svc")
    assert st["status"] == "down" and st["reason"] == f"process {pid} is gone"
    assert node.status("svc")["avail"] == "down"
    assert node.svcmgr("-s", "svc", "stop").rc == 0 and not pidfile(node, "svc").exists()


def test_a_reused_pid_is_never_taken_for_the_app(node: Node):
    node.write("svc", "[app#0]\ntype = simple\nstart = /bin/sleep 300\n")
    other = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        path = pidfile(node, "svc")
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"pid": other.pid, "started": 1.0, "token": "x" * 32}))
        assert app_status(node, "svc")["status"] == "down"
        assert node.svcmgr("-s", "svc", "stop").rc == 0
        assert other.poll() is None  # not ours: not signalled
        assert node.svcmgr("-s", "svc", "start").rc == 0  # a new process, tracked anew
        assert tracked(node, "svc")["pid"] != other.pid
        assert app_status(node, "svc")["status"] == "up"
    finally:
        other.kill()
        other.wait()


def test_a_start_command_that_exits_at_once_fails_the_start(node: Node):
    node.write("svc", "[app#0]\ntype = simple\nstart = echo no config; exit 3\n")
    res = node.svcmgr("-s", "svc", "start")
    assert res.rc == 1
    assert "app#0: start command exited at once with code 3: no config" in res.err
    assert app_status(node, "svc")["status"] == "down"


@pytest.mark.parametrize("kill, survivors", [("tree", 0), ("parent", 2)])
def test_kill_tree_reaches_children_that_left_the_group(node: Node, kill: str, survivors: int):
    node.write("svc", f"""
        [app#0]
        type = simple
        kill = {kill}
        start = sh -c 'sleep 301 & setsid sleep 302 & exec sleep 300'
        """)
    assert node.svcmgr("-s", "svc", "start").rc == 0
    info = tracked(node, "svc")
    wait(lambda: len(with_token(info["token"])) == 3, what="the app and its two children")
    assert node.svcmgr("-s", "svc", "stop").rc == 0
    assert not alive(info["pid"])
    left = wait(lambda: len(with_token(info["token"])) == survivors or None, what="the stop")
    assert left
    for pid in with_token(info["token"]):
        os.kill(pid, signal.SIGKILL)


def test_the_monitor_restarts_a_killed_simple_app(node: Node):
    from e2e_support import BIN

    node.write("svc", """
        [DEFAULT]
        monitor_schedule = @1s
        [app#0]
        type = simple
        start = /bin/sleep 300
        monitor = true
        restart = 2
        restart_delay = 100ms
        """)
    daemon = subprocess.Popen([str(BIN / "nodemgr"), "daemon", "run"], env=node.env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        def restarted() -> list[dict]:
            return [r for r in node.runs("svc") if r["rid"] == "resource_monitor"
                    and r["status"] == "ok"]

        # down at first: the monitor's first restart is what starts it here (standalone)
        wait(restarted, timeout=20, what="the monitor started the app")
        first = tracked(node, "svc")["pid"]
        assert alive(first)
        os.kill(first, signal.SIGKILL)
        wait(lambda: len(restarted()) == 2, timeout=20, what="the restart")
        second = tracked(node, "svc")["pid"]
        assert second != first and alive(second)
        last = restarted()[-1]["reason"]
        assert last.startswith("app#0 restart attempt ") and last.endswith(": restarted, up")
    finally:
        daemon.terminate()
        daemon.wait(15)
