# ZooKeeper for the compose cluster and the container tests where no registry is reachable:
# the base from deploy/images.sh (Debian's zookeeper package) and an entrypoint that reads
# the official `zookeeper` image's ZOO_* variables. Where a registry is reachable,
# docker-compose.yml uses the official image instead. Built by deploy/images.sh.
ARG BASE=localhost/orchestrator-base:bookworm
FROM ${BASE}

COPY deploy/zookeeper-entrypoint.sh /usr/local/bin/zookeeper-entrypoint
RUN chmod 0755 /usr/local/bin/zookeeper-entrypoint && mkdir -p /data /datalog /conf

VOLUME ["/data", "/datalog"]
EXPOSE 2181 2888 3888
ENTRYPOINT ["zookeeper-entrypoint"]
