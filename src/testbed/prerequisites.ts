// Says what the namespace testbed needs but lacks (root, ip, nft, curl), without throwing.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Result of testbedPrerequisites(). */
export interface TestbedPrerequisites {
  ok: boolean;
  /** e.g. ['root', 'nft']. */
  missing: string[];
  /** One line for a skipped test or an error, e.g. "not root; nft not found"; null when ok. */
  reason: string | null;
}

/** Commands the testbed runs: ip and nft to build it, curl as the client in demos and e2e tests. */
export const TESTBED_COMMANDS = ['ip', 'nft', 'curl'] as const;

/** Finds an executable on PATH, as spawn() will look for it. */
export function findExecutable(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter((d) => d !== '')) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Checks for root and the testbed commands; e2e tests skip with `reason` when not ok. */
export function testbedPrerequisites(): TestbedPrerequisites {
  const missing: string[] = [];
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    missing.push('root');
    problems.push('not root (network namespaces need root)');
  }
  for (const command of TESTBED_COMMANDS) {
    if (findExecutable(command) === undefined) {
      missing.push(command);
      problems.push(`${command} not found`);
    }
  }
  return { ok: missing.length === 0, missing, reason: problems.length === 0 ? null : problems.join('; ') };
}
