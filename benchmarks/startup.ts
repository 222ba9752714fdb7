// Start-up benchmark: wall time of `imds-sniff --version` (median of N runs) for the single binary
// (packaging/build-binary.sh), next to a bare `node -e 0` and the source build (`node dist/src/main.js`).
// The binary runs from its build tree through its own loader (`ld-linux… imds-sniff`): the same
// work as the kernel starting it from /usr/lib/imds-sniff, without installing it on this machine.
// Sizes: the executable, the whole tree and the tarball. Exits 1 when the binary's median is over
// --max-ms (CI: 150).
// Usage: node dist/benchmarks/startup.js [--tree build/x64/root] [--runs 10] [--max-ms 150] [--json FILE]

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({
  options: {
    tree: { type: 'string', default: join(ROOT, 'build/x64/root') },
    runs: { type: 'string', default: '10' },
    'max-ms': { type: 'string' },
    json: { type: 'string' },
  },
});
const runs = Number(values.runs);
const lib = join(values.tree, 'usr/lib/imds-sniff');
const exe = join(lib, 'imds-sniff');
const loader = readdirSync(lib).find((f) => /^ld-linux.*\.so\.\d$/.test(f));
if (!existsSync(exe) || loader === undefined) {
  console.error(`startup: no binary in ${values.tree}: run bash packaging/build-binary.sh x64`);
  process.exit(2);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median wall time in ms of `argv` over `runs` runs, after one warm-up run; it must exit 0. */
function time(argv: string[]): { medianMs: number; minMs: number; maxMs: number } {
  const once = (): number => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
    return ms;
  };
  once();
  const xs = Array.from({ length: runs }, once);
  return { medianMs: Math.round(median(xs)), minMs: Math.round(Math.min(...xs)), maxMs: Math.round(Math.max(...xs)) };
}

function treeBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += treeBytes(path);
    else if (e.isFile()) total += statSync(path).size;
  }
  return total;
}

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const tarball = join(ROOT, `build/dist/imds-sniff-${version}-linux-x64.tar.gz`);
const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
const result = {
  runs,
  binary_version_ms: time([join(lib, loader), exe, '--version']),
  node_e_0_ms: time([process.execPath, '-e', '0']),
  source_build_version_ms: time([process.execPath, join(ROOT, 'dist/src/main.js'), '--version']),
  executable_mib: mib(statSync(exe).size),
  installed_tree_mib: mib(treeBytes(values.tree)),
  tarball_mib: existsSync(tarball) ? mib(statSync(tarball).size) : null,
};
console.table({
  'imds-sniff --version (binary)': result.binary_version_ms,
  'node -e 0 (this node)': result.node_e_0_ms,
  'node dist/src/main.js --version': result.source_build_version_ms,
});
console.log(`sizes: executable ${result.executable_mib} MiB, installed tree ${result.installed_tree_mib} MiB, tarball ${result.tarball_mib ?? '-'} MiB`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
const max = values['max-ms'] === undefined ? undefined : Number(values['max-ms']);
if (max !== undefined && result.binary_version_ms.medianMs > max) {
  console.error(`startup: the binary's --version median ${result.binary_version_ms.medianMs} ms is over ${max} ms`);
  process.exit(1);
}
