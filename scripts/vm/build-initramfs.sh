#!/usr/bin/env bash
# Kernel VM lane: builds the initramfs for one unpacked kernel (fetch-kernel.sh): a static busybox,
# the modules that reach the host root (virtio, 9p, overlay and what they need, in modprobe's
# order) and an /init that mounts the host root read-only over virtio-9p with a tmpfs overlay on
# top, mounts the kernel's own modules and the results share, and switch_roots into it to run
# scripts/vm/init.sh. With MODE "systemd" (packaging/vm/test-systemd.sh) the root is instead the
# share "vmroot" (a Debian root, writable), and the /init switch_roots into its systemd as PID 1.
# Usage: build-initramfs.sh KERNEL_DIR OUT.cpio.gz [systemd]
set -euo pipefail
kdir="$(cd "${1:?usage: build-initramfs.sh KERNEL_DIR OUT}" && pwd)"
out="${2:?usage: build-initramfs.sh KERNEL_DIR OUT}"
mode="${3:-hostroot}"
release="$(cat "$kdir/release")"
busybox="$(command -v busybox)"
file -L "$busybox" 2>/dev/null | grep -q 'dynamically linked' && { echo "build-initramfs: $busybox is not static (install busybox-static)" >&2; exit 1; }

work="$(mktemp -d /tmp/imds-sniff-initramfs.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,newroot,lower,rw,modules}
cp "$busybox" "$work/bin/busybox"
for applet in sh mount umount mkdir insmod switch_root cat echo sleep poweroff ls; do ln -s busybox "$work/bin/$applet"; done

# Modules in load order; a module built into this kernel or absent from it is skipped.
: >"$work/modules/order"
for mod in virtio virtio_ring virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay; do
  modprobe -d "$kdir" -S "$release" --show-depends "$mod" 2>/dev/null | awk '$1 == "insmod" { print $2 }' || true
done | awk '!seen[$0]++' | while read -r ko; do
  name="$(basename "$ko")"
  case "$name" in
    *.ko.xz) xz -dc "$ko" >"$work/modules/${name%.xz}"; name="${name%.xz}" ;;
    *.ko.zst) zstd -qdc "$ko" >"$work/modules/${name%.zst}"; name="${name%.zst}" ;;
    *) cp "$ko" "$work/modules/$name" ;;
  esac
  echo "$name" >>"$work/modules/order"
done

cat >"$work/init" <<'INIT'
#!/bin/sh
# initramfs /init: host root (9p, read-only) + tmpfs overlay, then scripts/vm/init.sh in it.
mount -t proc proc /proc
mount -t devtmpfs dev /dev 2>/dev/null
for m in $(cat /modules/order); do insmod "/modules/$m" 2>/dev/null; done
repo=$(sed -n 's/.*imds_repo=\([^ ]*\).*/\1/p' /proc/cmdline)
o=trans=virtio,version=9p2000.L,msize=512000
fail() { echo "initramfs: $*"; echo o >/proc/sysrq-trigger; sleep 10; }
mount -t 9p -o $o,ro,cache=loose hostroot /lower || fail "cannot mount the host root over 9p"
mount -t tmpfs -o size=1200m rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || fail "overlay mount failed"
mkdir -p /newroot/lib/modules
mount -t 9p -o $o,ro,cache=loose modules /newroot/lib/modules || fail "cannot mount the kernel modules share"
mkdir -p /newroot/vmresults
mount -t 9p -o $o,cache=none results /newroot/vmresults || fail "cannot mount the results share"
mkdir -p /newroot/dev && mount --move /dev /newroot/dev
umount /proc
exec switch_root /newroot /bin/sh "$repo/scripts/vm/init.sh"
INIT
if [ "$mode" = systemd ]; then
  cat >"$work/init" <<'INIT'
#!/bin/sh
# initramfs /init (systemd VM): the Debian root (9p, writable), the kernel's modules and the results
# share, then that root's systemd as PID 1.
mount -t proc proc /proc
mount -t devtmpfs dev /dev 2>/dev/null
for m in $(cat /modules/order); do insmod "/modules/$m" 2>/dev/null; done
o=trans=virtio,version=9p2000.L,msize=512000
fail() { echo "initramfs: $*"; echo o >/proc/sysrq-trigger; sleep 10; }
mount -t 9p -o $o,cache=mmap vmroot /newroot || fail "cannot mount the Debian root over 9p"
mkdir -p /newroot/lib/modules
mount -t 9p -o $o,ro,cache=loose modules /newroot/lib/modules || fail "cannot mount the kernel modules share"
mkdir -p /newroot/vmresults
mount -t 9p -o $o,cache=none results /newroot/vmresults || fail "cannot mount the results share"
mount --move /dev /newroot/dev
umount /proc
exec switch_root /newroot /lib/systemd/systemd
INIT
fi
chmod +x "$work/init"
(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
