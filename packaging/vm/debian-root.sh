#!/usr/bin/env bash
# The systemd VM's root: a fresh Debian 12 made by debootstrap (minbase plus systemd, curl, iproute2,
# busybox for the mock IMDS's httpd, logrotate), cached in .cache/vm/debian-root (rebuilt when this
# script changes). packaging/vm/test-systemd.sh boots a copy of it with systemd as PID 1.
# Usage: bash packaging/vm/debian-root.sh   (root; downloads from deb.debian.org)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/apt-ensure.sh
apt_ensure debian-root debootstrap
out=.cache/vm/debian-root
stamp="$out/.imds-sniff-root"
want="$(sha256sum packaging/vm/debian-root.sh | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "debian-root: $out is up to date" >&2
  exit 0
fi
rm -rf "$out" "$out.tmp"
mkdir -p "$(dirname "$out")"
echo "debian-root: debootstrap bookworm into $out" >&2
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,curl,iproute2,busybox,logrotate,procps,kmod,util-linux \
  bookworm "$out.tmp" http://deb.debian.org/debian >"$(dirname "$out")/debootstrap.log" 2>&1 ||
  { tail -20 "$(dirname "$out")/debootstrap.log" >&2; exit 1; }
rm -rf "$out.tmp"/var/cache/apt/archives/*.deb
echo imds-vm >"$out.tmp/etc/hostname"
mv "$out.tmp" "$out"
echo "$want" >"$stamp"
echo "debian-root: done ($(du -sm "$out" | cut -f1) MiB)" >&2
