// Test helper: compiles the mock IMDS entry into a temp dir so e2e tests never run a stale dist/
// (a dist/ build newer than every source file is used as is: tsc is slow in the kernel VMs).

import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A compiled mock-imds-main.js and a way to remove it. */
export interface CompiledMockScript {
  script: string;
  remove(): Promise<void>;
}

/** Newest modification time (ms) of the .ts files under dir. */
function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** dist/'s mock-imds-main.js when it was built after the last change to src/, else null. */
export function freshDistMockScript(): string | null {
  const script = join(repoRoot, 'dist', 'src', 'testbed', 'mock-imds-main.js');
  try {
    return statSync(script).mtimeMs >= newestSourceMs(join(repoRoot, 'src')) ? script : null;
  } catch {
    return null;
  }
}

/**
 * A fresh dist/ build of the mock when there is one (nothing to remove); otherwise runs tsc on
 * src/testbed/mock-imds-main.ts (and what it imports) with the project's compiler settings, into
 * a fresh temp dir marked as an ES module package.
 */
export async function compileMockScript(): Promise<CompiledMockScript> {
  const built = freshDistMockScript();
  if (built) return { script: built, remove: async () => {} };
  const outDir = await mkdtemp(join(tmpdir(), 'imds-sniff-mock-build-'));
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  // prettier-ignore
  const args = [
    tsc, '--outDir', outDir, '--rootDir', repoRoot, '--target', 'ES2022', '--module', 'NodeNext',
    '--moduleResolution', 'NodeNext', '--lib', 'ES2023', '--types', 'node', '--strict', '--skipLibCheck',
    join(repoRoot, 'src', 'testbed', 'mock-imds-main.ts'),
  ];
  await promisify(execFile)(process.execPath, args, { cwd: repoRoot });
  await writeFile(join(outDir, 'package.json'), '{ "type": "module" }\n');
  return {
    script: join(outDir, 'src', 'testbed', 'mock-imds-main.js'),
    remove: () => rm(outDir, { recursive: true, force: true }),
  };
}
