#!/usr/bin/env bash
# Builds the SSM Distributor package from the .deb and .rpm files (packaging/build-packages.sh):
# one zip per platform and architecture, each holding install.sh, uninstall.sh and the package,
# and manifest.json (schemaVersion 2.0) naming, for every platform we ship to (Amazon Linux 2 and
# 2023, RHEL, Ubuntu, Debian) and both architectures, its zip with the zip's SHA-256.
# Upload the folder's files to one S3 prefix, then:
#   aws ssm create-document --name imds-sniff --document-type Package \
#     --content file://build/dist/ssm/manifest.json --attachments Key=SourceUrl,Values=s3://BUCKET/PREFIX
#
# Output: build/dist/ssm/{manifest.json,imds-sniff-<amazon-2|amazon-2023|redhat|ubuntu|debian>-<x86_64|arm64>.zip}
# Usage: bash packaging/build-ssm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
version="$(node -p "require('./package.json').version")"
out="$root/build/dist/ssm"
rm -rf "$out"
mkdir -p "$out"
# One zip per platform and architecture (the rpm platforms hold the same .rpm, the deb ones the .deb).
for platform in amazon-2:rpm amazon-2023:rpm redhat:rpm ubuntu:deb debian:deb; do
  for arch in x86_64 arm64; do
    format="${platform#*:}" name="${platform%%:*}"
    case "$format-$arch" in
      deb-x86_64) file="imds-sniff_${version}_amd64.deb" ;;
      deb-arm64) file="imds-sniff_${version}_arm64.deb" ;;
      rpm-x86_64) file="imds-sniff-${version}-1.x86_64.rpm" ;;
      rpm-arm64) file="imds-sniff-${version}-1.aarch64.rpm" ;;
    esac
    [ -f "build/dist/$file" ] || { echo "build-ssm: build/dist/$file missing: run packaging/build-packages.sh" >&2; exit 1; }
    work="$(mktemp -d)"
    install -m 0755 packaging/ssm/distributor/install.sh packaging/ssm/distributor/uninstall.sh "$work/"
    install -m 0644 "build/dist/$file" "$work/"
    # -X: no extra attributes; -D: no directory entries; -0: the packages are compressed already.
    (cd "$work" && TZ=UTC zip -q -X -D -0 "$out/imds-sniff-$name-$arch.zip" install.sh uninstall.sh "$file")
    rm -rf "$work"
  done
done
node packaging/ssm/manifest.mjs --version "$version" --dir "$out" >"$out/manifest.json"
echo "build-ssm: $out ($(ls "$out" | wc -l) files)" >&2
