#!/usr/bin/env bash
# Installs what building and testing the release artifacts needs, on Debian 12 as root, from
# Debian's archive and the npm registry only:
#   - patchelf and binutils (readelf): point the binary at its own loader and libraries;
#   - the arm64 cross compiler and Debian multiarch arm64 libraries (libpcap-dev:arm64 brings
#     libpcap and what it links) for the arm64 pcap addon and the arm64 library closure;
#   - qemu-user-static: runs the arm64 Node to write the arm64 blob, and the arm64 binary in tests;
#   - dpkg-dev and rpm: the .deb and .rpm; zip: the SSM Distributor package;
#   - Node 22 for x64 and arm64 from npm (node-linux-<arch>: the nodejs.org builds with their headers,
#     repackaged on npm; nodejs.org itself is out of reach here), pinned: the version in
#     packaging/node-version, each executable's SHA-256 in packaging/node-sha256.
# Idempotent: what is there already is not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Node every binary is built on.
NODE_VERSION="$(cat packaging/node-version)"

. scripts/lib/apt-ensure.sh
# Multiarch: arm64 packages from the same archive, beside the amd64 ones.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "setup-tools: adding the arm64 architecture" >&2
  dpkg --add-architecture arm64
fi
apt_ensure setup-tools patchelf binutils g++-aarch64-linux-gnu qemu-user-static dpkg-dev rpm zip unzip \
  libpcap0.8-dev:arm64 libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64

for arch in x64 arm64; do
  dir=".cache/sea/node-$NODE_VERSION-$arch"
  [ -x "$dir/bin/node" ] && continue
  echo "setup-tools: fetching node-linux-$arch@$NODE_VERSION from npm" >&2
  tmp="$(mktemp -d)"
  # npm pack checks the tarball against the registry's integrity hash.
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null 2>&1)
  mkdir -p "$dir"
  tar -C "$dir" --strip-components=1 -xzf "$tmp"/node-linux-"$arch"-"$NODE_VERSION".tgz
  rm -rf "$tmp"
done
# The executables must be the ones this repository pinned (every binary we ship is one of them).
for arch in x64 arm64; do
  want="$(awk -v a="$arch" '$2 == a { print $1 }' packaging/node-sha256)"
  got="$(sha256sum ".cache/sea/node-$NODE_VERSION-$arch/bin/node" | cut -d' ' -f1)"
  if [ "$want" != "$got" ]; then
    echo "setup-tools: node-linux-$arch@$NODE_VERSION bin/node has sha256 $got, packaging/node-sha256 pins ${want:-nothing}" >&2
    rm -rf ".cache/sea/node-$NODE_VERSION-$arch"
    exit 1
  fi
done
echo "setup-tools: done" >&2
