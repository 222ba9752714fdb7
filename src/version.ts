// The build's identity: the version, and the commit it was built from. `--version` prints these
// with the Node and libpcap versions it runs on.

import { readFileSync } from 'node:fs';

export const VERSION = '0.1.0';

// A single executable's bundler writes the commit into this constant (esbuild `define`); a build
// from the checkout finds it in dist/build-info.json, which scripts/setup.sh writes.
declare const IMDS_SNIFF_COMMIT: string | undefined;

/** The commit this build was made from, or "unknown" (a build from a tree without git). */
export function buildCommit(): string {
  if (typeof IMDS_SNIFF_COMMIT === 'string') return IMDS_SNIFF_COMMIT;
  try {
    const info = JSON.parse(readFileSync(new URL('../build-info.json', import.meta.url), 'utf8')) as { commit?: unknown };
    return typeof info.commit === 'string' && /^[0-9a-f]{7,40}(-dirty)?$/.test(info.commit) ? info.commit : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The lines `imds-sniff --version` prints; `libpcap` is pcap's own version string, or why it is missing. */
export function versionText(libpcap: string): string {
  return [`imds-sniff ${VERSION}`, `commit ${buildCommit()}`, `node ${process.version}`, `libpcap ${libpcap.replace(/^libpcap version /, '')}`].join('\n') + '\n';
}
