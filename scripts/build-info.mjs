// Writes dist/build-info.json: the commit this build comes from (with -dirty when the tree has
// changes), which `imds-sniff --version` prints. Without git, or outside a checkout: "unknown".
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

function git(...args) {
  return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

let commit = 'unknown';
try {
  commit = git('rev-parse', '--short=12', 'HEAD');
  if (git('status', '--porcelain', '--untracked-files=no') !== '') commit += '-dirty';
} catch {
  // not a checkout, or no git: the version still prints
}
const out = new URL('../dist/', import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL('build-info.json', out), `${JSON.stringify({ commit })}\n`);
if (process.argv.includes('--print')) process.stdout.write(`${commit}\n`);
