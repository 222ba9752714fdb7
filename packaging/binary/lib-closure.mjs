// The shared libraries a set of ELF files needs, all the way down, resolved in Debian's multiarch
// directories for the target architecture (readelf reads any architecture's ELF). Prints one line
// per library: "<soname> <path>". The loader (PT_INTERP) is not a NEEDED entry and is not printed.
//
// Usage: node packaging/binary/lib-closure.mjs --arch x64|arm64 FILE...
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

const triplets = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const { values, positionals } = parseArgs({ options: { arch: { type: 'string' } }, allowPositionals: true });
const triplet = triplets[values.arch ?? ''];
if (!triplet || positionals.length === 0) {
  console.error('usage: lib-closure.mjs --arch x64|arm64 FILE...');
  process.exit(2);
}
const dirs = [`/lib/${triplet}`, `/usr/lib/${triplet}`];

/** The DT_NEEDED sonames of one ELF file, and whether it carries a RUNPATH (which would hide ours). */
function dynamic(file) {
  const text = execFileSync('readelf', ['-d', '-W', file], { encoding: 'utf8' });
  const needed = [...text.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const runpath = /\(RUNPATH\)/.test(text);
  return { needed, runpath };
}

function resolve(soname) {
  for (const dir of dirs) {
    const path = `${dir}/${soname}`;
    if (existsSync(path)) return path;
  }
  throw new Error(`${soname} not found in ${dirs.join(', ')}: install its ${values.arch} package`);
}

const found = new Map();
const queue = [...positionals];
while (queue.length > 0) {
  const file = queue.shift();
  const { needed, runpath } = dynamic(file);
  if (runpath) throw new Error(`${file} has a RUNPATH: the executable's RPATH would not apply to its dependencies`);
  for (const soname of needed) {
    if (found.has(soname) || /^ld-linux/.test(soname)) continue;
    const path = resolve(soname);
    found.set(soname, path);
    queue.push(path);
  }
}
for (const [soname, path] of [...found].sort()) process.stdout.write(`${soname} ${path}\n`);
