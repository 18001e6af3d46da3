#!/usr/bin/env bash
# The demo: a local 3-node cluster on this machine (one ZooKeeper, three node agents), a
# failover service of real resources (an address on each node's veth into a LAN namespace,
# ext4 on a loop disk, a podman container, a monitored simple app, a podman task writing
# into the filesystem) with scheduled tasks, placed, switched and failed over; a monitored
# app killed and restarted; then what the tasks recorded. Needs root (namespaces, loop
# devices, mounts). Everything it starts is stopped and removed on exit (Ctrl-C included).
#
#   ./deploy/demo.sh                   # DEMO_DIR=./demo-cluster, DEMO_WAIT=35 (seconds of tasks)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "demo: run it as root (sudo ./deploy/demo.sh): it creates a network namespace, veths, a loop device and mounts" >&2
    exit 2
fi
bash deploy/bootstrap.sh

REPO=$(pwd)
BIN=$REPO/.venv/bin
DEMO=${DEMO_DIR:-$REPO/demo-cluster}
WAIT=${DEMO_WAIT:-35}
SVC=demo
NODES="n1 n2 n3"
declare -A PID=()
LANNS=demo-lan                  # the "LAN": a namespace with a bridge, a veth per node
ADDR=198.51.100.150             # the service's address (TEST-NET-2, never routed)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$REPO/tests/containers.conf}  # runc, rlimits
declare -A DEV=([n1]=demo-n1 [n2]=demo-n2 [n3]=demo-n3)

pause() { sleep "$1" & wait $!; }   # a signal interrupts the wait, not only after the sleep
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
    local code=$?
    trap - EXIT INT TERM
    say "stopping everything"
    for n in "${!PID[@]}"; do
        kill -TERM "${PID[$n]}" 2>/dev/null || true
    done
    for n in "${!PID[@]}"; do
        for _ in $(seq 100); do kill -0 "${PID[$n]}" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-${PID[$n]}" 2>/dev/null || true   # its process group, if it lingered
    done
    # each node's fence keeper leaves after its agent's graceful goodbye; any other goes now
    local keepers="" k
    for n in $NODES; do
        k=$(cat "$DEMO/$n/var/lib/orchestrator/fence/keeper.pid" 2>/dev/null || true)
        [ -n "$k" ] && grep -q orchestrator.fence.keeper "/proc/$k/cmdline" 2>/dev/null && keepers="$keepers $k"
    done
    for k in $keepers; do
        for _ in $(seq 50); do kill -0 "$k" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$k" 2>/dev/null || true
    done
    "$BIN/python" -m orchestrator.devtools.zookeeper stop --dir "$DEMO/zk" 2>/dev/null || true
    remove_host_parts
    rm -f "$DEMO"/markers/*.up
    local left
    left=$(for n in "${!PID[@]}"; do kill -0 "${PID[$n]}" 2>/dev/null && echo "${PID[$n]}"; done || true)
    for k in $keepers; do sleep 0.1; kill -0 "$k" 2>/dev/null && left="$left $k"; done
    if [ -f "$DEMO/zk/zookeeper.pid" ]; then left="$left $(cat "$DEMO/zk/zookeeper.pid")"; fi
    left=$(echo $left)
    if [ -n "$left" ]; then
        echo "demo: processes still running: $left" >&2
        code=1
    else
        echo "node agents and ZooKeeper stopped; files kept in $DEMO"
    fi
    exit "$code"
}
remove_host_parts() {  # what a killed agent may have left: mounts, loops, containers, the LAN
    local m l c
    for m in $(findmnt -rn -o TARGET | grep "^$DEMO/" | sort -r); do umount "$m" 2>/dev/null || umount -l "$m"; done
    for l in $(losetup -j "$DEMO/disk1.img" -O NAME -n 2>/dev/null); do losetup -d "$l" 2>/dev/null || true; done
    for c in $(podman ps -a --format '{{.Names}}' 2>/dev/null | grep "^$SVC\." || true); do
        podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
    done
    for n in $NODES; do ip link del "${DEV[$n]}" 2>/dev/null || true; done
    ip netns del "$LANNS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

node_env() { env ORCHESTRATOR_ROOT="$DEMO/$1" ORCHESTRATOR_LOG_FORMAT=console "${@:2}"; }
svcmgr() { local n=$1; shift; node_env "$n" "$BIN/svcmgr" "$@"; }
nodemgr() { local n=$1; shift; node_env "$n" "$BIN/nodemgr" "$@"; }

start_daemon() {
    # its own session (setsid): a SIGKILL of the group is a crash of that node's agent
    ORCHESTRATOR_ROOT="$DEMO/$1" ORCHESTRATOR_LOG_FORMAT=console \
        setsid "$BIN/nodemgr" daemon run >>"$DEMO/$1.log" 2>&1 &
    PID[$1]=$!   # setsid execs in place (a background job is no group leader): pid == pgid
}

active_node() {  # the active node of $SVC as seen from node $1 ("" if none)
    nodemgr "$1" status --format json 2>/dev/null | "$BIN/python" -c \
        'import json,sys; print(json.load(sys.stdin)["services"].get(sys.argv[1],{}).get("active_node") or "")' "$SVC" || true
}

wait_active() {  # wait_active ASKED_NODE WANTED_NODE|not:NODE TIMEOUT
    local deadline=$((SECONDS + $3)) got
    while [ $SECONDS -lt $deadline ]; do
        got=$(active_node "$1")
        if [ -n "$got" ] && { [ "$got" = "$2" ] || { [ "${2#not:}" != "$2" ] && [ "$got" != "${2#not:}" ]; }; }; then
            echo "$got"
            return 0
        fi
        sleep 0.2
    done
    echo "demo: $SVC not active on $2 after $3 s" >&2
    return 1
}

say "a fresh demo directory: $DEMO"
if [ -d "$DEMO/zk" ]; then
    "$BIN/python" -m orchestrator.devtools.zookeeper stop --dir "$DEMO/zk" 2>/dev/null || true
fi
remove_host_parts
rm -rf "$DEMO"
mkdir -p "$DEMO/markers"

say "the LAN: namespace $LANNS (a bridge holding 198.51.100.200/25) and a veth per node"
ip netns add "$LANNS"
ip -n "$LANNS" link set lo up
ip -n "$LANNS" link add lanbr type bridge
ip -n "$LANNS" addr add 198.51.100.200/25 dev lanbr
ip -n "$LANNS" link set lanbr up
for n in $NODES; do
    ip link add "${DEV[$n]}" type veth peer name "p-${DEV[$n]}"
    ip link set "p-${DEV[$n]}" netns "$LANNS"
    ip -n "$LANNS" link set "p-${DEV[$n]}" master lanbr
    ip -n "$LANNS" link set "p-${DEV[$n]}" up
    ip link set "${DEV[$n]}" up
    echo "$n: ${DEV[$n]}"
done

say "ZooKeeper (Debian's package, run from orchestrator.devtools.zookeeper)"
ZK=$("$BIN/python" -m orchestrator.devtools.zookeeper start --dir "$DEMO/zk")
echo "ZooKeeper at $ZK"

say "three node agents: nodemgr daemon run, each with its own ORCHESTRATOR_ROOT"
for n in $NODES; do
    mkdir -p "$DEMO/$n/etc/orchestrator"
    cat >"$DEMO/$n/etc/orchestrator/node.conf" <<EOF
[node]
name = $n

[cluster]
name = demo
zk = $ZK/demo
secret = demo-secret
session_timeout = 2
EOF
    start_daemon "$n"
    echo "$n: pid ${PID[$n]}, root $DEMO/$n, log $DEMO/$n.log"
done
for _ in $(seq 100); do
    [ "$(nodemgr n1 status --format json 2>/dev/null | "$BIN/python" -c \
        'import json,sys; print(len(json.load(sys.stdin)["nodes"]))' 2>/dev/null)" = 3 ] && break
    sleep 0.2
done

say "the service: $SVC (nodes = n1 n2 n3, orchestrate = ha: an address, a filesystem on a loop disk, a container, a monitored app, tasks)"
cat >"$DEMO/$SVC.conf" <<EOF
[DEFAULT]
nodes = n1 n2 n3
orchestrate = ha
monitor_schedule = @5s
monitor_action = switch

[ip#0]
name = $ADDR
netmask = 25
dev@n1 = ${DEV[n1]}
dev@n2 = ${DEV[n2]}
dev@n3 = ${DEV[n3]}

[disk#1]
type = loop
file = $DEMO/disk1.img
size = 64m

[fs#1]
# one image file, mounted where the active node mounts it: the data moves with the service
type = ext4
dev = {disk#1.exposed_devs[0]}
mnt = $DEMO/{nodename}/data

[container#web]
type = podman
image = localhost/testbox:latest
name = {name}.web.{nodename}
command = httpd -f -p 8080 -h /www
volume_mounts = {fs#1.mnt}:/www
init = true
stop_timeout = 2

[app#worker]
# a monitored foreground process: killed, the resource monitor starts it again (restart = 1)
type = simple
start = /bin/sleep 100000
monitor = true
restart = 1

[app#0]
start = touch $DEMO/markers/{nodename}.up
stop = rm -f $DEMO/markers/{nodename}.up
check = test -f $DEMO/markers/{nodename}.up

[task#every15s]
command = sh -c 'echo "\$(date +%T) task#every15s on {nodename}" >> $DEMO/tasks.log'
schedule = @15s

[task#backup]
# a containerized task: podman run --rm, its output in the run log
type = podman
image = localhost/testbox:latest
volume_mounts = {fs#1.mnt}:/data
command = sh -c 'date >> /data/backups; echo backup number \$(wc -l < /data/backups)'
schedule = @20s

[task#cron]
command = sh -c 'echo "\$(date +%T) task#cron on {nodename}" >> $DEMO/tasks.log'
schedule = */1 * * * *

[task#manual]
command = sh -c 'echo "\$(date +%T) task#manual on {nodename}" >> $DEMO/tasks.log'
EOF
cat "$DEMO/$SVC.conf"
svcmgr n1 -s "$SVC" create --config "$DEMO/$SVC.conf"
echo "installed in the cluster; every node writes its local copy:"
sleep 1
ls "$DEMO"/n*/etc/orchestrator/services/

wait_up() {  # wait_up ASKED_NODE TIMEOUT: until the service's avail is up (every part started)
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(svcmgr "$1" -s "$SVC" print status --format json 2>/dev/null | "$BIN/python" -c \
            'import json,sys; print(json.load(sys.stdin)["avail"])' 2>/dev/null)" = up ] && return 0
        sleep 0.2
    done
    echo "demo: $SVC not up after $2 s" >&2
    return 1
}

show_parts() {  # where each part of the service is, as the host sees it
    local n on
    for n in $NODES; do
        on=""
        # no `| grep -q` here: with pipefail, grep quitting early can fail the pipeline
        [[ "$(ip -o addr show dev "${DEV[$n]}")" == *" $ADDR/"* ]] && on="$on address"
        findmnt -rn "$DEMO/$n/data" >/dev/null && on="$on filesystem"
        [[ " $(podman ps --format '{{.Names}}' | tr '\n' ' ') " == *" $SVC.web.$n "* ]] && on="$on container"
        echo "  $n:${on:- nothing}"
    done
    if ip netns exec "$LANNS" ping -c 1 -W 1 "$ADDR" >/dev/null; then
        echo "  $ADDR answers ping from the LAN"
    fi
}

say "placed on the first healthy node"
wait_active n3 n1 30 >/dev/null
wait_up n3 30
nodemgr n3 status
svcmgr n2 -s "$SVC" print status
show_parts
svcmgr n2 -s "$SVC" print schedule

say "a manual run on the active node (svcmgr run)"
svcmgr n1 -s "$SVC" run --rid task#manual

say "switch to n2 (returns when it is up there)"
t0=$(date +%s%N)
svcmgr n3 -s "$SVC" switch --to n2
echo "switch took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
nodemgr n1 status
show_parts

say "the daemon runs the tasks on the active node: waiting ${WAIT}s"
pause "$WAIT"

say "failover: SIGKILL of n2's agent alone (the active node; its app and node live on)"
kill -KILL "${PID[n2]}"
wait "${PID[n2]}" 2>/dev/null || true
unset 'PID[n2]'
t0=$SECONDS
now=$(wait_active n3 not:n2 15)
wait_up n3 30
echo "$SVC failed over to $now and is up there in about $((SECONDS - t0)) s (session timeout 2 s)"
echo "n2's fence keeper stopped the app there first (never up on two nodes):"
grep -E "fencing agent|fenced agent|app#0 .*rm -f" "$DEMO/n2.log" | tail -3
echo "app up on: $(cd "$DEMO/markers" && ls *.up 2>/dev/null | sed 's/.up$//' | tr '\n' ' ')"
show_parts
echo "the backups the task wrote, in the filesystem that moved with the service:"
tail -3 "$DEMO/$now/data/backups" 2>/dev/null || echo "(none yet)"
nodemgr n3 status
svcmgr n3 -s "$SVC" print status

say "n2's agent comes back, finds its fence keeper and what it did, rejoins (the service stays where it is)"
start_daemon n2
pause 3
grep -E "the fence keeper fenced agent" "$DEMO/n2.log" | tail -1
nodemgr n2 status

say "a monitored app dies on $now: the resource monitor restarts it there (monitor_schedule @5s)"
pidfile="$DEMO/$now/var/lib/orchestrator/services/$SVC/resources/app#worker.pid"
worker_pid() { "$BIN/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$pidfile" 2>/dev/null || true; }
old_pid=$(worker_pid)
kill -KILL "$old_pid"
echo "killed the worker process $old_pid on $now"
for _ in $(seq 150); do
    new_pid=$(worker_pid)
    [ -n "$new_pid" ] && [ "$new_pid" != "$old_pid" ] && grep -q "^State:.[^Z]" "/proc/$new_pid/status" 2>/dev/null && break
    sleep 0.2
done
echo "worker running again on $now as pid $new_pid"
grep -E "app#worker" "$DEMO/$now.log" | grep -iE "restart|down" | tail -2
svcmgr "$now" -s "$SVC" print status

say "tasks keep running on the new active node: waiting ${WAIT}s"
pause "$WAIT"

say "what the tasks recorded ($DEMO/tasks.log)"
cat "$DEMO/tasks.log" 2>/dev/null || echo "(nothing yet)"

say "run history (svcmgr -s $SVC print runs)"
svcmgr "$now" -s "$SVC" print runs

say "the container task's last output (svcmgr -s $SVC logs --rid task#backup)"
svcmgr "$now" -s "$SVC" logs --rid task#backup || true
