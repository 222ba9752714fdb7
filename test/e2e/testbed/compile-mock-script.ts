// Test helper: compiles the mock IMDS entry into a temp dir so e2e tests never run a stale dist/.

import { execFile } from 'node:child_process';
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

/**
 * Runs tsc on src/testbed/mock-imds-main.ts (and what it imports) with the project's
 * compiler settings, into a fresh temp dir marked as an ES module package.
 */
export async function compileMockScript(): Promise<CompiledMockScript> {
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
