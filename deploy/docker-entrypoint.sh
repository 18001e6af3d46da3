#!/bin/sh
# Write <root>/etc/orchestrator/node.conf from the environment unless one is mounted, then
# exec the command (default: nodemgr daemon run, so it gets SIGTERM directly).
set -eu
conf="${ORCHESTRATOR_ROOT:-/}/etc/orchestrator/node.conf"
if [ ! -s "$conf" ]; then
    mkdir -p "$(dirname "$conf")"
    cat >"$conf" <<CONF
[node]
name = ${ORCHESTRATOR_NODE:-$(hostname)}

[cluster]
name = ${ORCHESTRATOR_CLUSTER:-default}
zk = ${ORCHESTRATOR_ZK:-}
secret = ${ORCHESTRATOR_SECRET:-}
session_timeout = ${ORCHESTRATOR_SESSION_TIMEOUT:-10}
CONF
    if [ -n "${ORCHESTRATOR_COLLECTOR_URL:-}" ]; then
        printf '\n[collector]\nurl = %s\ntoken = %s\n' "$ORCHESTRATOR_COLLECTOR_URL" \
            "${ORCHESTRATOR_COLLECTOR_TOKEN:-}" >>"$conf"
    fi
fi
exec "$@"
