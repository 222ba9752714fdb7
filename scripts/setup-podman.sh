#!/usr/bin/env bash
# Installs podman with runc (for test/e2e/agent/podman.test.ts) and builds the exploded root the
# test runs its containers from: .cache/podman-rootfs with static busybox and the host's curl.
# Idempotent and offline apart from Debian's archive: no image registry is ever contacted.
set -euo pipefail
cd "$(dirname "$0")/.."

# runc, not crun: crun refuses hybrid (v1 + v2) cgroup hosts. conmon is podman's monitor.
# busybox-static is only downloaded (apt-get download) into the rootfs, never installed.
# No recommends: slirp4netns, fuse-overlayfs, uidmap and buildah serve rootless podman and
# image builds; the test runs as root with --network ns:<path> and --rootfs.
. scripts/lib/apt-ensure.sh
apt_ensure setup-podman podman runc conmon

rootfs=.cache/podman-rootfs
stamp="$rootfs/.imds-sniff-rootfs"
curl_bin="$(command -v curl)"
# Rebuilt when the host's curl changes (its libraries are copied, not installed).
want="v2 $(sha256sum "$curl_bin" | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup-podman: $rootfs is up to date" >&2
  exit 0
fi

echo "setup-podman: building $rootfs (busybox-static + the host's curl)" >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$rootfs"
# hostproc: where the podman test mounts the host's /proc (made here, not by runc in the shared root).
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/lib,lib,lib64,etc,proc,sys,dev,tmp,run,root,var/tmp,hostproc}
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"

(cd "$tmp" && apt-get download -qq busybox-static >/dev/null 2>&1) || {
  apt-get update -qq && (cd "$tmp" && apt-get download -qq busybox-static >/dev/null)
}
dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/bb"
cp "$tmp/bb/bin/busybox" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done

# curl and every shared library ldd names, at the same paths (the loader finds them as on the host).
cp -L "$curl_bin" "$rootfs/usr/bin/curl"
ldd "$curl_bin" | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+ \(/ { print $1 }' | sort -u | while read -r lib; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
# Debian 12 is merged-/usr: /lib and /lib64 are links into /usr on the host; ldd prints either form.
cp -a /etc/ssl "$rootfs/etc/" 2>/dev/null || true
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
: >"$rootfs/etc/hosts"
: >"$rootfs/etc/resolv.conf"

chroot "$rootfs" /usr/bin/curl --version >/dev/null || { echo "setup-podman: curl does not run in $rootfs" >&2; exit 1; }
chroot "$rootfs" /bin/sh -c 'seq 1 2 >/dev/null' || { echo "setup-podman: busybox does not run in $rootfs" >&2; exit 1; }
echo "$want" >"$stamp"
echo "setup-podman: $rootfs ready" >&2
