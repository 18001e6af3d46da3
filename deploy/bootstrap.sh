#!/usr/bin/env bash
# Install what orchestrator needs on a fresh Debian machine, then the package itself into
# ./.venv. Idempotent: a second run only checks. Needs root (or sudo) for the system packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
command -v rsync >/dev/null 2>&1 || need+=(rsync)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
# the ip, fs and disk (loop) drivers, and their tests: tool:package
for tool in ip:iproute2 arping:iputils-arping ping:iputils-ping losetup:mount blkid:util-linux \
            findmnt:util-linux mkfs.ext4:e2fsprogs fuser:psmisc; do
    PATH="$PATH:/usr/sbin:/sbin" command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
# containers (tests/container_support.py): podman on runc (crun cannot run here), a busybox
# for the test image, podman-docker (a `docker` that is podman), catatonit for --init
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
[ -f /usr/lib/tmpfiles.d/podman-docker.conf ] || need+=(podman-docker)
[ -x /usr/bin/catatonit ] || need+=(catatonit)
# the compose cluster and containerized ZooKeeper (deploy/images.sh, tests/containers):
# debootstrap for the base image, CNI's dnsname so compose's service names resolve on a
# podman network, nsenter to cut a container's link (docker-compose is above)
PATH="$PATH:/usr/sbin:/sbin" command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
[ -x /usr/lib/cni/dnsname ] || need+=(golang-github-containernetworking-plugin-dnsname)
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
if [ "${#need[@]}" -gt 0 ]; then
    echo "bootstrap: installing system packages: ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv" >&2
    python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
    echo "bootstrap: installing orchestrator and its test tools into .venv" >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
    rm -f .venv/.installed-*
    touch "$stamp"
fi

# the tests' container image (quick when it is there); podman-docker's banner kept quiet
if command -v podman >/dev/null 2>&1; then
    [ -e /etc/containers/nodocker ] || { [ -w /etc/containers ] && touch /etc/containers/nodocker; } || true
    bash deploy/testbox.sh
fi
