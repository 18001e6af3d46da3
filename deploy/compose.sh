#!/usr/bin/env bash
# The compose cluster (docker-compose.yml: 3 ZooKeeper members, 3 nodes, the collector) on
# podman, through podman's Docker-compatible API and docker-compose; or on Docker.
#   deploy/compose.sh up [--no-wait]  images (deploy/images.sh), the API if none answers,
#                                     `docker-compose up -d`; waits until the 3 nodes are up
#   deploy/compose.sh status [NODE]   `nodemgr status --format json` from inside NODE (n1)
#   deploy/compose.sh down            `docker-compose down --volumes`, and the API it started
#   deploy/compose.sh exec NODE CMD.. a command inside a node (svcmgr, nodemgr...)
# Engine: podman when it is installed (ORCHESTRATOR_ENGINE=docker for Docker). With podman the
# API listens on RUN_DIR/podman.sock (RUN_DIR: ORCHESTRATOR_COMPOSE_RUN, default
# /run/orchestrator-compose/PROJECT) unless DOCKER_HOST names one already; `down` stops it.
# Also read: COMPOSE_PROJECT_NAME (orchestrator), ORCHESTRATOR_SUBNET (198.51.100.0/25),
# ORCHESTRATOR_COLLECTOR_PORT (8080, on 127.0.0.1), ORCHESTRATOR_SECRET.
set -euo pipefail
cd "$(dirname "$0")/.."

export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-orchestrator}
engine=${ORCHESTRATOR_ENGINE:-$(command -v podman >/dev/null 2>&1 && echo podman || echo docker)}
run_dir=${ORCHESTRATOR_COMPOSE_RUN:-/run/orchestrator-compose/$COMPOSE_PROJECT_NAME}
say() { echo "compose: $*" >&2; }

if command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
else
    compose=(docker compose)
fi

if [ "$engine" = podman ]; then
    export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tests/containers.conf}
    export ORCHESTRATOR_ZK_IMAGE=${ORCHESTRATOR_ZK_IMAGE:-localhost/orchestrator-zookeeper:latest}
    export ORCHESTRATOR_BASE_IMAGE=${ORCHESTRATOR_BASE_IMAGE:-localhost/orchestrator-base:bookworm}
    own_api=0
    if [ -z "${DOCKER_HOST:-}" ]; then
        export DOCKER_HOST="unix://$run_dir/podman.sock"
        own_api=1
    fi
fi

api_answers() {
    python3 - "$DOCKER_HOST" <<'PY' >/dev/null 2>&1
import socket, sys
path = sys.argv[1].removeprefix("unix://")
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(path)
s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
sys.exit(0 if b" 200 " in s.recv(100) else 1)
PY
}

start_api() {
    [ "$own_api" = 1 ] || return 0
    api_answers && return 0
    mkdir -p "$run_dir"
    rm -f "$run_dir/podman.sock"
    setsid podman system service --time=0 "$DOCKER_HOST" </dev/null >>"$run_dir/podman.log" 2>&1 &
    echo $! >"$run_dir/podman.pid"
    for _ in $(seq 100); do
        api_answers && return 0
        sleep 0.1
    done
    say "podman's API did not answer on $DOCKER_HOST (see $run_dir/podman.log)"
    exit 1
}

stop_api() {
    [ "$engine" = podman ] && [ "$own_api" = 1 ] && [ -f "$run_dir/podman.pid" ] || return 0
    local pid
    pid=$(cat "$run_dir/podman.pid")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$run_dir"
}

node_status() {
    "${compose[@]}" exec -T "${1:-n1}" nodemgr status --format json
}

wait_nodes_up() {
    local deadline=$((SECONDS + ${ORCHESTRATOR_COMPOSE_WAIT:-180})) out
    while [ "$SECONDS" -lt "$deadline" ]; do
        if out=$(node_status n1 2>/dev/null) && python3 -c '
import json, sys
nodes = json.loads(sys.stdin.read())["nodes"]
sys.exit(0 if all(nodes.get(n, {}).get("state") == "up" for n in ("n1", "n2", "n3")) else 1)
' <<<"$out"; then
            say "n1, n2 and n3 are up"
            return 0
        fi
        sleep 1
    done
    say "the nodes did not all come up; last status: ${out:-none}"
    "${compose[@]}" ps >&2 || true
    exit 1
}

case "${1:-}" in
    up)
        if [ "$engine" = podman ]; then
            bash deploy/images.sh
            start_api
            "${compose[@]}" up -d --no-build
        else
            "${compose[@]}" up -d --build
        fi
        [ "${2:-}" = "--no-wait" ] || wait_nodes_up
        ;;
    status)
        node_status "${2:-n1}"
        ;;
    exec)
        shift
        node=${1:?deploy/compose.sh exec NODE COMMAND...}
        shift
        "${compose[@]}" exec -T "$node" "$@"
        ;;
    down)
        rc=0
        [ "$engine" = podman ] && start_api  # compose needs the API to take things down
        "${compose[@]}" down --volumes --remove-orphans || rc=$?
        stop_api
        exit "$rc"
        ;;
    *)
        echo "usage: deploy/compose.sh up [--no-wait] | status [NODE] | exec NODE CMD... | down" >&2
        exit 2
        ;;
esac
