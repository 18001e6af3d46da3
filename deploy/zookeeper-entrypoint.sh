#!/bin/sh
# ZooKeeper from Debian's jars, configured from the environment variables of the official
# `zookeeper` image, so docker-compose.yml and the tests start either image the same way:
#   ZOO_MY_ID (default 1), ZOO_SERVERS ("server.1=zk1:2888:3888;2181 server.2=..."; none:
#   standalone), ZOO_TICK_TIME (2000), ZOO_INIT_LIMIT (5), ZOO_SYNC_LIMIT (2),
#   ZOO_MAX_CLIENT_CNXNS (60), ZOO_4LW_COMMANDS_WHITELIST (srvr), ZOO_STANDALONE_ENABLED
#   (true), ZOO_ADMINSERVER_ENABLED (false here: no jetty port), ZOO_HEAP (256m).
# Data in /data, transaction log in /datalog. A command given as arguments runs instead.
set -eu
[ "$#" -gt 0 ] && exec "$@"

data=/data datalog=/datalog conf=/conf/zoo.cfg
mkdir -p "$data" "$datalog" /conf
cat >"$conf" <<CFG
dataDir=$data
dataLogDir=$datalog
tickTime=${ZOO_TICK_TIME:-2000}
initLimit=${ZOO_INIT_LIMIT:-5}
syncLimit=${ZOO_SYNC_LIMIT:-2}
maxClientCnxns=${ZOO_MAX_CLIENT_CNXNS:-60}
standaloneEnabled=${ZOO_STANDALONE_ENABLED:-true}
admin.enableServer=${ZOO_ADMINSERVER_ENABLED:-false}
4lw.commands.whitelist=${ZOO_4LW_COMMANDS_WHITELIST:-srvr}
CFG
if [ -n "${ZOO_SERVERS:-}" ]; then
    for server in $ZOO_SERVERS; do
        echo "$server" >>"$conf"
    done
fi
case "${ZOO_SERVERS:-}" in
    *";2181"*) ;;  # the client port is in the server lines
    *) echo "clientPort=2181" >>"$conf" ;;
esac
[ -s "$data/myid" ] || echo "${ZOO_MY_ID:-1}" >"$data/myid"

# the server jar's manifest names the jars it needs; slf4j-simple makes it log at all
exec java "-Xmx${ZOO_HEAP:-256m}" -XX:+UseSerialGC \
    -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$conf"
