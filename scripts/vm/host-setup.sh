#!/usr/bin/env bash
# Kernel VM lane, host side: installs what booting the Debian test kernels under qemu needs
# (qemu, a static busybox for the initramfs, depmod, cpio, xz/zstd for modules) and what the
# guest borrows from the host root over 9p (podman, runc, conmon for the podman e2e tests).
# Non-interactive; only packages that are missing are installed. Run as root.
set -euo pipefail
. "$(dirname "$0")/../lib/apt-ensure.sh"
apt_ensure vm-host-setup qemu-system-x86 busybox-static kmod cpio xz-utils zstd podman runc conmon
