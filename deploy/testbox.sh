#!/usr/bin/env bash
# The container image the tests run: localhost/testbox:latest, a busybox-static rootfs
# imported with `podman import` (no registry can be reached from the test machines).
# Idempotent and quick when the image is there at this version: `podman image exists` and
# one inspect. Needs podman and busybox-static (deploy/bootstrap.sh installs them).
set -euo pipefail

IMAGE=localhost/testbox:latest
VERSION=1  # bump when the rootfs below changes: the image is then rebuilt

current=$(podman image inspect --format '{{index .Labels "testbox.version"}}' "$IMAGE" \
    2>/dev/null || true)
[ "$current" = "$VERSION" ] && exit 0

busybox=/bin/busybox  # busybox-static's (it conflicts with the dynamic busybox package)
if ! dpkg -s busybox-static >/dev/null 2>&1 || [ ! -x "$busybox" ]; then
    echo "testbox: busybox-static is not installed (deploy/bootstrap.sh installs it)" >&2
    exit 1
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"/{bin,etc,tmp,proc,sys,dev,root,data}
chmod 1777 "$dir/tmp"
cp "$busybox" "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
ln -s bin "$dir/sbin"
cat > "$dir/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$dir/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
tar -C "$dir" -cf "$dir.tar" .
trap 'rm -rf "$dir" "$dir.tar"' EXIT
podman import --quiet --change "LABEL=testbox.version=$VERSION" --change "CMD=/bin/sh" \
    "$dir.tar" "$IMAGE" >/dev/null
echo "testbox: built $IMAGE (version $VERSION)" >&2
