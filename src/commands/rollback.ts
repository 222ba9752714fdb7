// commands/: `imds-sniff rollback` — its flags and help; runs control/rollback-change.ts (loaded on use) under the change lock.

import { parseDuration } from '../config/duration.js';
import type { ControlFlags } from '../control/control-context.js';
import type { ExitCodeValue } from '../errors.js';
import { controlOptions } from './control-options.js';
import type { Register } from './register.js';

export interface RollbackFlags extends ControlFlags {
  timeout: string;
  force?: boolean;
  dryRun?: boolean;
  launchTemplate?: string;
}

const ROLLBACK_HELP = `
Restores what the last imds-sniff enforce recorded in <stateDir>/changes.json on this host: the
instance's previous metadata options (then waits for State=applied and checks IMDS here), or the
launch template's previous default version. Refuses (exit 6) when the instance was changed by
someone else since; --force restores anyway.

Examples:
  imds-sniff rollback
  imds-sniff rollback --instance-id i-0123456789abcdef0 --region eu-west-1
  imds-sniff rollback --launch-template lt-0123456789abcdef0`;

/** Loads control/ (only now: the EC2 client is large), parses the flags, then rolls back under the change lock. */
export async function runRollback(flags: RollbackFlags): Promise<ExitCodeValue> {
  const [{ controlContext }, { holdingChangeLock }, { rollbackChange }] = await Promise.all([
    import('../control/control-context.js'), import('../control/change-run.js'), import('../control/rollback-change.js'),
  ]);
  const timeoutMs = parseDuration(flags.timeout, '--timeout');
  const ctx = await controlContext(flags);
  return holdingChangeLock(ctx, () => rollbackChange(ctx, flags, timeoutMs));
}

export const rollback: Register = (program, setResult) => {
  controlOptions(program.command('rollback').description('restore the options the last enforce recorded; verify'), true)
    .option('--force', 'restore even when the instance was changed by someone else since')
    .option('--dry-run', 'check the IAM permission (EC2 DryRun); change nothing')
    .option('--timeout <time>', 'how long to wait for State=applied and for IMDS to answer as expected', '2m')
    .option('--launch-template <id>', 'roll back the last enforce of this launch template')
    .addHelpText('after', ROLLBACK_HELP)
    .action((flags: RollbackFlags) => setResult(runRollback(flags)));
};
