#!/usr/bin/env bash
# Kernel VM lane: boots one kernel under qemu TCG (there is no /dev/kvm) with three virtio-9p
# shares: the host root (read-only; the initramfs puts a tmpfs overlay on it), the kernel's own
# /lib/modules, and RESULTS_DIR (writable: the command, its environment, its logs and exit code).
# Never any network device (-nic none). The serial console goes to LOG.
# Usage: boot.sh KERNEL_DIR INITRD RESULTS_DIR LOG TIMEOUT_SECONDS [VMROOT [KERNEL_ARGS]]
set -euo pipefail
kdir="$1" initrd="$2" results="$3" log="$4" timeout_s="$5" vmroot="${6:-}" append="${7:-}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
share=security_model=none,multidevs=remap
# The guest's root: the host root (read-only; the initramfs overlays it) or, with VMROOT, that
# folder, writable (packaging/vm/test-systemd.sh: a Debian root booting its own systemd).
if [ -n "$vmroot" ]; then root_share="local,path=$vmroot,mount_tag=vmroot,$share"; else root_share="local,path=/,mount_tag=hostroot,readonly=on,$share"; fi
timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
  -machine pc -accel tcg,thread=multi,tb-size=512 -cpu max -smp 2 -m 3G \
  -nic none -display none -monitor none -no-reboot \
  -serial "file:$log" \
  -kernel "$kdir/vmlinuz" -initrd "$initrd" \
  -append "console=ttyS0 panic=-1 tsc=reliable mitigations=off norandmaps loglevel=4 imds_repo=$repo $append" \
  -virtfs "$root_share" \
  -virtfs "local,path=$kdir/lib/modules,mount_tag=modules,readonly=on,$share" \
  -virtfs "local,path=$results,mount_tag=results,$share"
