#!/usr/bin/env bash
# Builds the OCI image for one architecture from the binary's tree (packaging/build-binary.sh), offline:
# FROM scratch, so podman fetches nothing. Writes build/dist/imds-sniff-<version>-<arch>.oci.tar
# (podman load / skopeo copy it to a registry) and tags localhost/imds-sniff:<version>-<arch>.
# Usage: bash packaging/build-image.sh x64|arm64
set -euo pipefail
. "$(dirname "$0")/lib/target.sh"
target_init build-image.sh "${1:-}"
tree="$root/build/$arch/root"
[ -x "$tree/usr/lib/imds-sniff/imds-sniff" ] || { echo "build-image: $tree missing: run packaging/build-binary.sh $arch" >&2; exit 1; }
tag="localhost/imds-sniff:$version-$arch"
# --pull=never: FROM scratch needs no registry; --timestamp: the same tree gives the same image.
podman build --quiet --pull=never --arch "$oci_arch" --timestamp 0 -f packaging/image/Containerfile -t "$tag" "$tree" >/dev/null
out="$root/build/dist/imds-sniff-$version-$arch.oci.tar"
rm -f "$out"
podman save --quiet --format oci-archive -o "$out" "$tag"
printf 'build-image[%s]: %s (%s MiB), tagged %s\n' "$arch" "$out" "$(( $(stat -c %s "$out") / 1048576 ))" "$tag" >&2
