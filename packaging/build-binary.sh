#!/usr/bin/env bash
# Builds the self-contained imds-sniff for one architecture: Node's single-executable support on the
# stock Node 22 (packaging/node-version), the compiled CLI bundled into one script, the pcap addon
# compiled for that Node and architecture, and the dynamic loader and every shared library it all
# needs taken from Debian 12, so the binary needs nothing from the host but a Linux kernel.
#
#   usr/lib/imds-sniff/imds-sniff            the executable (PT_INTERP and RPATH point to this folder)
#   usr/lib/imds-sniff/ld-linux-*.so.*       glibc's loader, libc, libstdc++, libpcap and their deps
#   usr/lib/imds-sniff/pcap_binding.node     the addon, loaded only when its SHA-256 is the built one
#   usr/lib/imds-sniff/imds-sniff-trace-reader  tracefs ring-buffer reader (static; no host cat/setpriv)
#   usr/bin/imds-sniff                       a link to the executable
#   usr/share/doc/imds-sniff/                licences of Node and of every bundled library
#
# Output: build/<arch>/root/ (the tree) and build/dist/imds-sniff-<version>-linux-<arch>.tar.gz,
# to be extracted at / (the loader path is absolute).
#
# Usage: bash packaging/build-binary.sh x64|arm64    (after scripts/setup.sh and packaging/setup-tools.sh)
set -euo pipefail
. "$(dirname "$0")/lib/target.sh"
target_init build-binary.sh "${1:-}"
node_version="$(cat packaging/node-version)"
node_dir="$root/.cache/sea/node-$node_version-$arch"
[ -x "$node_dir/bin/node" ] || { echo "build-binary: $node_dir missing: run packaging/setup-tools.sh" >&2; exit 1; }
[ -f dist/src/main.js ] || { echo "build-binary: dist/ missing: run npm run build" >&2; exit 1; }

out="$root/build/$arch"
stage="$out/root"
lib="$stage/usr/lib/imds-sniff"
rm -rf "$out"
mkdir -p "$lib" "$stage/usr/bin" "$stage/usr/share/doc/imds-sniff" "$root/build/dist"

# Runs the target's Node: directly on x64, under qemu-user on arm64 (with Debian's arm64 libraries).
target_node() {
  if [ "$arch" = arm64 ]; then qemu-aarch64-static "$node_dir/bin/node" "$@"; else "$node_dir/bin/node" "$@"; fi
}

echo "build-binary[$arch]: pcap addon for Node $node_version" >&2
cp -r node_modules/pcap "$out/pcap"
rm -rf "$out/pcap/build"
gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
# binding.gyp asks `node -e "require('nan')"` for nan's headers: the checkout's nan.
(cd "$out/pcap" && env "${cross[@]}" NODE_PATH="$root/node_modules" \
  node "$gyp" rebuild --nodedir="$node_dir" --arch="$gyp_arch" >"$out/pcap-build.log" 2>&1) ||
  { tail -20 "$out/pcap-build.log" >&2; exit 1; }
install -m 0644 "$out/pcap/build/Release/pcap_binding.node" "$lib/pcap_binding.node"
"$strip" --strip-unneeded "$lib/pcap_binding.node"
binding_sha256="$(sha256sum "$lib/pcap_binding.node" | cut -d' ' -f1)"

echo "build-binary[$arch]: bundle" >&2
commit="$(node scripts/build-info.mjs --print)"
node packaging/binary/bundle.mjs --out "$out/imds-sniff.cjs" --binding-sha256 "$binding_sha256" --commit "$commit"

echo "build-binary[$arch]: single-executable blob" >&2
cat >"$out/sea-config.json" <<EOF
{ "main": "$out/imds-sniff.cjs", "output": "$out/sea-prep.blob",
  "disableExperimentalSEAWarning": true, "useCodeCache": true }
EOF
target_node --experimental-sea-config "$out/sea-config.json" >&2

echo "build-binary[$arch]: executable" >&2
exe="$lib/imds-sniff"
cp "$node_dir/bin/node" "$exe"
chmod 0755 "$exe"
# The stock binary carries 70 MB of debug information; .dynsym, which addons link against, stays.
"$strip" --strip-debug "$exe"
# postject first: after patchelf moved the dynamic string table, postject's rewrite left DT_NEEDED
# and DT_RPATH pointing into the wrong strings (measured). patchelf after postject keeps the blob's note.
npx --no-install postject "$exe" NODE_SEA_BLOB "$out/sea-prep.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >"$out/postject.log" 2>&1 ||
  { cat "$out/postject.log" >&2; exit 1; }
patchelf --set-interpreter "/usr/lib/imds-sniff/$loader" --force-rpath --set-rpath '$ORIGIN' "$exe"
ln -s ../lib/imds-sniff/imds-sniff "$stage/usr/bin/imds-sniff"
# Static: it runs before anything else is loaded and must work in a FROM-scratch image.
"$cc" -static -Os -s -Wall -Wextra -Werror -o "$lib/imds-sniff-trace-reader" packaging/binary/trace-reader.c

echo "build-binary[$arch]: loader and libraries" >&2
install -m 0755 "$(readlink -f "/lib/$triplet/$loader")" "$lib/$loader"
docs="$stage/usr/share/doc/imds-sniff"
cp "$node_dir/LICENSE" "$docs/LICENSE.node"
packages=("libc6:$([ "$arch" = x64 ] && echo amd64 || echo arm64)")
node packaging/binary/lib-closure.mjs --arch "$arch" "$exe" "$lib/pcap_binding.node" >"$out/libs.txt"
while read -r soname path; do
  install -m 0644 "$(readlink -f "$path")" "$lib/$soname"
  packages+=("$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1-2 || true)")
done <"$out/libs.txt"
for pkg in $(printf '%s\n' "${packages[@]}" | sed 's/:.*//' | sort -u); do
  [ -f "/usr/share/doc/$pkg/copyright" ] && cp "/usr/share/doc/$pkg/copyright" "$docs/copyright.$pkg"
done

tarball="$root/build/dist/imds-sniff-$version-linux-$arch.tar.gz"
tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name -czf "$tarball" usr
printf 'build-binary[%s]: %s (executable %s MiB, tarball %s MiB)\n' "$arch" "$tarball" \
  "$(( $(stat -c %s "$exe") / 1048576 ))" "$(( $(stat -c %s "$tarball") / 1048576 ))" >&2
