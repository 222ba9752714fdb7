// commands/fleet/: `imds-sniff fleet` — the group and its subcommands, in help order; the work is in src/fleet/ (loaded on use: the AWS SDKs are large).

import type { Register } from '../register.js';
import { dashboard } from './dashboard.js';
import { enforce } from './enforce.js';
import { inventory } from './inventory.js';
import { launchPaths } from './launch-paths.js';
import { lock } from './lock.js';
import { report } from './report.js';

/** The subcommands, in help order. */
const SUBCOMMANDS: Register[] = [inventory, report, dashboard, enforce, launchPaths, lock];

export const fleet: Register = (program, setResult) => {
  const group = program.command('fleet').description('across accounts and regions: what still allows IMDSv1, who still uses it, what can be switched');
  for (const register of SUBCOMMANDS) register(group, setResult);
};
