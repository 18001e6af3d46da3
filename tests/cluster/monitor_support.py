"""A monitored app for real-daemon tests and the monitor benchmark (on top of daemons.py).

The app is a detached ``sleep`` whose pid is in ``<markers>/<rid>.<node>.pid`` (``appctl.sh``
starts, stops and checks it); its check is ``kill -0`` made strict: it reads the process
state, since a killed process nobody reaps stays a zombie here (this machine's pid 1 does not
reap), which ``kill -0`` would still find. Its start fails on a node
while ``<base>/broken.<node>`` exists (the restarts fail there). Start and stop append
``<time> start|stop <node> <rid>`` lines to ``<base>/app-events``.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from daemons import Cluster


def pidfile(c: Cluster, node: str, rid: str = "app#0") -> Path:
    return c.markers / f"{rid.replace('#', '')}.{node}.pid"


APPCTL = """#!/bin/sh
# appctl.sh start|stop|check PIDFILE NODE RID BASE
act=$1 pid=$2 node=$3 rid=$4 base=$5
case $act in
start)
    test -f "$base/broken.$node" && { echo "broken on $node" >&2; exit 1; }
    setsid sleep 3600 </dev/null >/dev/null 2>&1 &
    echo $! > "$pid"
    echo "$(date +%s.%N) start $node $rid" >> "$base/app-events" ;;
stop)
    kill "$(cat "$pid" 2>/dev/null)" 2>/dev/null
    rm -f "$pid"
    echo "$(date +%s.%N) stop $node $rid" >> "$base/app-events" ;;
check)
    p=$(cat "$pid" 2>/dev/null) && [ -n "$p" ] || exit 1
    st=$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ] ;;
esac
"""


def app_section(c: Cluster, rid: str = "app#0", extra: str = "") -> str:
    script = c.base / "appctl.sh"
    if not script.exists():
        script.write_text(APPCTL)
    pid = f"{c.markers}/{rid.replace('#', '')}.{{nodename}}.pid"
    args = f"{pid} {{nodename}} {rid} {c.base}"
    return (f"[{rid}]\nstart = sh {script} start {args}\nstop = sh {script} stop {args}\n"
            f"check = sh {script} check {args}\n{extra}")


def monitored_config(c: Cluster, *, action: str = "switch", restart: int = 1,
                     delay: str = "500ms", schedule: str = "@2s", nodes: str | None = None,
                     extra: str = "", app_extra: str = "", monitor: bool = True) -> str:
    return (f"[DEFAULT]\nnodes = {nodes or ' '.join(c.names)}\norchestrate = ha\n"
            f"monitor_action = {action}\nmonitor_schedule = {schedule}\n\n"
            + app_section(c, extra=f"monitor = {str(monitor).lower()}\nrestart = {restart}\n"
                                   f"restart_delay = {delay}\n{app_extra}")
            + extra)


def app_pid(c: Cluster, node: str, rid: str = "app#0") -> int | None:
    try:
        return int(pidfile(c, node, rid).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/status") as fh:
            state = next((line.split()[1] for line in fh if line.startswith("State:")), "Z")
    except OSError:
        return False
    return state != "Z"


def kill_app(c: Cluster, node: str, rid: str = "app#0") -> int:
    """SIGKILL the app's process on ``node`` (the crash the monitor must see); its pid."""
    pid = app_pid(c, node, rid)
    assert pid is not None and alive(pid), f"no live app {rid} on {node}"
    os.kill(pid, signal.SIGKILL)
    return pid


def break_node(c: Cluster, node: str, broken: bool = True) -> None:
    flag = c.base / f"broken.{node}"
    if broken:
        flag.touch()
    else:
        flag.unlink(missing_ok=True)


def events(c: Cluster) -> list[tuple[float, str, str, str]]:
    path = c.base / "app-events"
    if not path.exists():
        return []
    return [(float(ts), what, node, rid) for ts, what, node, rid in
            (line.split() for line in path.read_text().splitlines())]


def kill_all_apps(c: Cluster) -> None:
    """Teardown: the apps are detached from everything the harness kills."""
    for path in c.markers.glob("*.pid"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int(path.read_text().split()[0]), signal.SIGKILL)
