"""The resource monitor on a standalone node (issue 12): the daemon restarts a failed app,
its counts show in ``print status``, ``switch`` is refused there with the reason (it needs a
cluster), and ``svcmgr clear`` resets the counts."""

from __future__ import annotations

import subprocess

from e2e_support import BIN, Node

from orchestrator.devtools.waiting import wait_until


def wait(predicate, timeout: float = 15.0, what: str = "condition"):
    return wait_until(predicate, timeout, 0.1, what)


def test_standalone_restart_counts_refused_switch_and_clear(node: Node, tmp_path):
    marker, broken = tmp_path / "app.up", tmp_path / "broken"
    node.write("svc", f"""
        [DEFAULT]
        monitor_schedule = @1s
        monitor_action = switch
        [app#0]
        start = test ! -f {broken} && touch {marker}
        stop = rm -f {marker}
        check = test -f {marker}
        monitor = true
        restart = 1
        restart_delay = 100ms
        """)
    daemon = subprocess.Popen([str(BIN / "nodemgr"), "daemon", "run"], env=node.env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait(marker.exists, what="the app started")  # down at first: restarted (started)
        ok = wait(lambda: [r for r in node.runs("svc") if r["rid"] == "resource_monitor"
                           and r["status"] == "ok"], what="a restart record")
        assert ok[0]["reason"] == "app#0 restart attempt 1 of 1: restarted, up"
        broken.touch()
        marker.unlink()
        refused = wait(lambda: [r for r in node.runs("svc") if "refused" in (r["reason"] or "")],
                       what="the refused switch")
        assert refused[0]["status"] == "failed"
        assert refused[0]["reason"].endswith(
            "monitor_action switch refused: it needs a cluster (standalone node)")
        assert refused[0]["reason"].startswith("monitored resource app#0 is down")
        res = node.svcmgr("-s", "svc", "print", "status")
        assert res.rc == 0 and "restarts 1/1 (total 2)" in res.out, res.out
        assert node.status("svc")["resources"]["app#0"]["restarts"] == 1
        assert node.svcmgr("-s", "svc", "clear").rc == 0
        broken.unlink()
        wait(marker.exists, what="restarted after clear")  # counts reset: restarted again
        wait(lambda: node.status("svc")["resources"]["app#0"].get("restarts_total") == 1,
             what="the total reset by clear")
    finally:
        daemon.terminate()
        daemon.wait(15)
