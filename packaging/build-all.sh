#!/usr/bin/env bash
# Builds every release artifact into build/dist/: the self-contained binary tarballs for x64 and
# arm64, the .deb and .rpm for both, the OCI images for both, and the SSM Distributor package. Installs its tools first
# (packaging/setup-tools.sh) and compiles the TypeScript when dist/ is missing or older than src/.
# Usage: bash packaging/build-all.sh     (after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/setup-tools.sh
if [ ! -f dist/src/main.js ] || [ -n "$(find src -newer dist/src/main.js -name '*.ts' -print -quit)" ]; then
  npm run build >&2
fi
for arch in x64 arm64; do
  bash packaging/build-binary.sh "$arch"
  bash packaging/build-packages.sh "$arch"
  bash packaging/build-image.sh "$arch"
done
bash packaging/build-ssm.sh
ls -l build/dist build/dist/ssm >&2
