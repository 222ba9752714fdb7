#!/usr/bin/env bash
# Installs everything imds-sniff needs to build, run and test on Debian 12, then builds it.
# Idempotent: packages already present are not reinstalled. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in libpcap-dev tcpdump iproute2 nftables curl wget procps python3 ca-certificates; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -d node_modules/pcap/build/Release ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund 2>&1 | grep -v 'Unknown user config' >&2 || true
  [ -f node_modules/pcap/build/Release/pcap_binding.node ] || { echo "setup: pcap did not build" >&2; exit 1; }
fi

echo "setup: building" >&2
npx tsc -p tsconfig.json
chmod +x dist/src/main.js

# `imds-sniff` on the PATH: a link to this checkout's build. An existing link to
# another checkout's build is replaced; anything else at that path is left alone.
link=/usr/local/bin/imds-sniff
target="$(pwd)/dist/src/main.js"
current="$(readlink "$link" 2>/dev/null || true)"
if { [ ! -e "$link" ] && [ -z "$current" ]; } || [[ "$current" == */dist/src/main.js ]]; then
  ln -sfn "$target" "$link"
fi
echo "setup: done; try: imds-sniff doctor" >&2
