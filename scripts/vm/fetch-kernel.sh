#!/usr/bin/env bash
# Kernel VM lane: downloads and unpacks one stock Debian kernel (vmlinuz + /lib/modules) into
# .cache/vm/kernel-<series>/. 5.10 comes from bullseye through a private apt list (the host
# stays on bookworm), 6.1 from the host's own bookworm lists. The -unsigned flavour is used:
# the -cloud- kernels lack 9p. Prints the unpacked directory. Usage: fetch-kernel.sh 5.10|6.1
set -euo pipefail
cd "$(dirname "$0")/../.."
series="${1:?usage: fetch-kernel.sh 5.10|6.1}"
cache="$(pwd)/.cache/vm"
dest="$cache/kernel-$series"
if [ -f "$dest/.done" ]; then echo "$dest"; exit 0; fi
mkdir -p "$cache/debs"
export DEBIAN_FRONTEND=noninteractive

case "$series" in
  5.10)
    apt_dir="$cache/apt-bullseye"
    mkdir -p "$apt_dir/lists/partial"
    echo 'deb http://deb.debian.org/debian bullseye main' >"$apt_dir/sources.list"
    echo 'deb http://deb.debian.org/debian-security bullseye-security main' >>"$apt_dir/sources.list"
    apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$apt_dir/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
    # Pinned, not the newest: under TCG 5.10.0-46 (5.10.262) reproducibly hit soft lockups and RCU
    # stalls in conmon and node in the podman tests; 5.10.0-45 (5.10.259) ran them twice without one.
    pinned="${IMDS_SNIFF_KERNEL_5_10:-linux-image-5.10.0-45-amd64-unsigned}"
    pattern="^${pinned//./\\.}\$"
    ;;
  6.1)
    apt_opts=()
    pattern='^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$'
    ;;
  *) echo "fetch-kernel: unknown kernel series $series (5.10 or 6.1)" >&2; exit 2 ;;
esac

apt-get "${apt_opts[@]}" update -qq >&2
# The newest ABI of the series: the package names carry it (linux-image-5.10.0-35-amd64-unsigned).
pkg="$(apt-cache "${apt_opts[@]}" pkgnames linux-image- | grep -E "$pattern" | sort -t- -k4,4n | tail -1)"
[ -n "$pkg" ] || { echo "fetch-kernel: no package matches $pattern" >&2; exit 1; }
echo "fetch-kernel: $pkg" >&2
(cd "$cache/debs" && apt-get "${apt_opts[@]}" download -qq "$pkg" >&2)
deb="$(ls -t "$cache/debs/${pkg}"_*.deb | head -1)"
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
dpkg-deb -x "$deb" "$dest.tmp"
# The .deb ships modules under lib/modules/<release>/ and the kernel as boot/vmlinuz-<release>.
release="$(ls "$dest.tmp/lib/modules")"
ln -s "boot/vmlinuz-$release" "$dest.tmp/vmlinuz"
echo "$release" >"$dest.tmp/release"
depmod -b "$dest.tmp" "$release"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
touch "$dest/.done"
echo "$dest"
