#!/usr/bin/env bash
# Installs everything imds-sniff needs to build, run and test on Debian 12, then builds it.
# Idempotent: packages already present are not reinstalled. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

# Node 20 or 22 with npm must be there already (Debian's own nodejs is too old).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: Node.js 20 or 22 with npm is needed (https://nodejs.org/en/download)" >&2
  exit 1
fi
case "$(node --version)" in
  v20.*|v22.*) ;;
  *) echo "setup: Node.js $(node --version) found; imds-sniff needs Node 20 or 22" >&2; exit 1 ;;
esac

. scripts/lib/apt-ensure.sh
apt_ensure setup libpcap-dev tcpdump tshark iproute2 nftables curl wget procps python3 ca-certificates systemd
# Headless Chromium opens the fleet report page in test/e2e/fleet (its content, sorting, a screenshot).
apt_ensure setup chromium

# moto_server (AWS API emulator for the CloudWatch/EC2 tests): the pyenv Python on these machines
# has moto 5.2.1; install it with pip only where it is missing.
if ! command -v moto_server >/dev/null 2>&1; then
  echo "setup: installing moto[server]==5.2.1 with pip" >&2
  if ! dpkg-query -W -f='${Status}' python3-pip 2>/dev/null | grep -q 'install ok installed' && ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  fi
  python3 -m pip install --quiet "moto[server]==5.2.1" 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages "moto[server]==5.2.1" \
    || echo "setup: could not install moto_server: the daemon's CloudWatch tests need it" >&2
  hash -r
fi

if [ ! -d node_modules/pcap/build/Release ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  if ! npm ci --no-audit --no-fund >/tmp/imds-sniff-npm-ci.log 2>&1; then
    grep -v 'Unknown user config' /tmp/imds-sniff-npm-ci.log >&2
    echo "setup: npm ci failed (log above)" >&2
    exit 1
  fi
  node -e "require('pcap')" || { echo "setup: the pcap module did not build for $(node --version)" >&2; exit 1; }
fi

# podman + runc and the exploded root test/e2e/agent/podman.test.ts runs its containers from.
bash scripts/setup-podman.sh

echo "setup: building" >&2
npx tsc -p tsconfig.json
node scripts/build-info.mjs
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
