#!/usr/bin/env bash
# Kernel VM lane, host side: installs what booting the Debian test kernels under qemu needs
# (qemu, a static busybox for the initramfs, depmod, cpio, xz/zstd for modules) and what the
# guest borrows from the host root over 9p (podman, runc, conmon for the podman e2e tests).
# Non-interactive; only packages that are missing are installed. Run as root.
set -euo pipefail
need=()
for pkg in qemu-system-x86 busybox-static kmod cpio xz-utils zstd podman runc conmon; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "vm-host-setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
