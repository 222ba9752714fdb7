#!/bin/sh
# Kernel VM lane, guest PID 1 (after the initramfs switch_root into the host root + tmpfs overlay):
# mounts the kernel filesystems, runs guest-run.sh, and powers the VM off whatever happens.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
repo="$(dirname "$(dirname "$(dirname "$(readlink -f "$0")")")")"
/bin/sh "$repo/scripts/vm/guest-run.sh" >/vmresults/guest.log 2>&1
echo "init: guest-run exited $(cat /vmresults/exit-code 2>/dev/null || echo '?')"
sync
busybox poweroff -f
