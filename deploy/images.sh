#!/usr/bin/env bash
# The container images, built with podman from Debian's packages (no registry needed):
#   localhost/orchestrator-base:bookworm       debootstrap minbase + python3, java, zookeeper
#   localhost/orchestrator-zookeeper:latest    the base + deploy/zookeeper-entrypoint.sh (the
#                                              official image's ZOO_* variables)
#   localhost/orchestrator-node:latest         deploy/Dockerfile on the base: the project
#                                              installed; nodes and the collector run it
# Idempotent: each image carries a label with a fingerprint of what it is built from (the
# package list; the base image and the files copied in); an image whose label matches is
# left alone, so a second run costs a few podman inspects. The base is debootstrapped from
# the Debian mirror this machine's apt uses (or DEBOOTSTRAP_MIRROR).
# Needs root, podman, runc and debootstrap: deploy/bootstrap.sh installs them (run first
# when one is missing).
#   deploy/images.sh            build what is missing or stale
#   deploy/images.sh --force    rebuild all three
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=bookworm
BASE=localhost/orchestrator-base:$SUITE
ZOOKEEPER=localhost/orchestrator-zookeeper:latest
NODE=localhost/orchestrator-node:latest
BASE_PACKAGES=python3,python3-venv,default-jre-headless,zookeeper,rsync,procps,iproute2
BASE_RECIPE=1  # bump when the debootstrap steps below change: the base is then rebuilt

# On a fresh machine: podman, runc, debootstrap and the .venv (whose pip fetches the wheels).
if ! command -v podman >/dev/null 2>&1 || [ ! -x .venv/bin/pip ] \
    || ! PATH="$PATH:/usr/sbin:/sbin" command -v debootstrap >/dev/null 2>&1; then
    bash deploy/bootstrap.sh
fi
export PATH="$PATH:/usr/sbin:/sbin"
# The project's one containers.conf (runc, rlimits this kind of machine accepts).
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tests/containers.conf}
force=0
[ "${1:-}" = "--force" ] && force=1

say() { echo "images: $*" >&2; }
replaced=()  # the images a rebuild took the name of: removed at the end, newest first
image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
remember_old() {
    local old
    old=$(image_id "$1")
    [ -z "$old" ] || replaced=("$old" "${replaced[@]}")
}
label_of() { podman image inspect --format "{{index .Labels \"$2\"}}" "$1" 2>/dev/null || true; }
current() { [ "$force" = 0 ] && [ "$(label_of "$1" orchestrator.fingerprint)" = "$2" ]; }
digest() { sha256sum | cut -c1-16; }

mirror() {
    if [ -n "${DEBOOTSTRAP_MIRROR:-}" ]; then
        echo "$DEBOOTSTRAP_MIRROR"
        return
    fi
    local url
    url=$(apt-get indextargets --format '$(REPO_URI)' "RELEASE: $SUITE" \
        'IDENTIFIER: Packages' 2>/dev/null | head -n1)
    if [ -z "$url" ]; then  # lists not fetched yet: the sources themselves (one-line format)
        url=$(awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }' \
            /etc/apt/sources.list 2>/dev/null || true)
    fi
    if [ -z "$url" ]; then  # deb822 format: the URIs of a stanza listing the suite
        url=$(awk -v suite="$SUITE" '/^URIs:/ { uri = $2 } /^Suites:/ {
                for (i = 2; i <= NF; i++) if ($i == suite) { print uri; exit } }' \
            /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    fi
    echo "$url"
}

build_base() {
    local fingerprint
    fingerprint=$(printf '%s %s %s' "$SUITE" "$BASE_PACKAGES" "$BASE_RECIPE" | digest)
    if current "$BASE" "$fingerprint"; then
        return
    fi
    command -v debootstrap >/dev/null || { say "debootstrap missing: run deploy/bootstrap.sh"; exit 1; }
    local url dir started
    url=$(mirror)
    [ -n "$url" ] || { say "no Debian mirror in apt's sources: set DEBOOTSTRAP_MIRROR"; exit 1; }
    dir=$(mktemp -d /var/tmp/orchestrator-base.XXXXXX)
    trap 'rm -rf "$dir"' EXIT
    started=$SECONDS
    say "debootstrap $SUITE from $url into $dir (about 2 minutes)"
    debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$dir" "$url" \
        >"$dir.log" 2>&1 || { tail -n 20 "$dir.log" >&2; rm -f "$dir.log"; exit 1; }
    rm -f "$dir.log"
    # what a container does not need: apt's lists and caches, docs, man pages
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
        "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
    say "importing $BASE"
    remember_old "$BASE"
    tar -C "$dir" -c . | podman import --quiet \
        --change "LABEL=orchestrator.fingerprint=$fingerprint" \
        --change "ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        --change "ENV=LANG=C.UTF-8" \
        --change "CMD=/bin/bash" - "$BASE" >/dev/null
    rm -rf "$dir"
    trap - EXIT
    say "built $BASE in $((SECONDS - started)) s"
}

# The wheels of the project's dependencies (and of its build backend) in deploy/wheels,
# fetched with the host's pip: the node image installs them with no index to reach.
fetch_wheels() {
    local dir=deploy/wheels requirements fingerprint pip=(.venv/bin/pip)
    requirements=$(python3 -c 'import tomllib
p = tomllib.load(open("pyproject.toml", "rb"))
print("\n".join(p["project"]["dependencies"] + p["build-system"]["requires"] + ["wheel"]))')
    fingerprint=$(printf '%s' "$requirements" | digest)
    [ -f "$dir/.fingerprint-$fingerprint" ] && return
    say "fetching the dependencies' wheels into $dir"
    rm -f "$dir"/*.whl "$dir"/.fingerprint-*
    printf '%s\n' "$requirements" >"$dir/.requirements.txt"
    "${pip[@]}" wheel --quiet --disable-pip-version-check --wheel-dir "$dir" \
        -r "$dir/.requirements.txt" >"$dir/.log" 2>&1 || { cat "$dir/.log" >&2; exit 1; }
    rm -f "$dir/.requirements.txt" "$dir/.log"
    touch "$dir/.fingerprint-$fingerprint"
}

# podman build of FILE as IMAGE on the base, when the base or the copied files changed
build_on_base() {
    local image=$1 file=$2 fingerprint started
    shift 2
    fingerprint=$({ podman image inspect --format '{{.Id}}' "$BASE"; cat "$file" "$@"; } | digest)
    if current "$image" "$fingerprint"; then
        return
    fi
    started=$SECONDS
    say "building $image from $file"
    remember_old "$image"
    podman build --quiet --network none --file "$file" --build-arg "BASE=$BASE" \
        --build-arg PIP_NO_INDEX=1 \
        --label "orchestrator.fingerprint=$fingerprint" --tag "$image" . >/dev/null
    say "built $image in $((SECONDS - started)) s"
}

node_inputs() {
    printf '%s\n' pyproject.toml README.md deploy/docker-entrypoint.sh deploy/wheels/.fingerprint-*
    find orchestrator -name '*.py' -not -path '*/__pycache__/*' | sort
}

build_base
build_on_base "$ZOOKEEPER" deploy/zookeeper.Dockerfile deploy/zookeeper-entrypoint.sh
fetch_wheels
mapfile -t inputs < <(node_inputs)
build_on_base "$NODE" deploy/Dockerfile "${inputs[@]}"
# the versions replaced, so that rebuilds do not pile up on the disk (one still used by a
# container stays: podman refuses)
for old in "${replaced[@]}"; do
    podman rmi "$old" >/dev/null 2>&1 || true
done
