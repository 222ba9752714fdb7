// commands/: `imds-sniff status` — its flags and help; runs control/instance-status.ts (loaded on use): options, observation, verdict.

import { parseDuration } from '../config/duration.js';
import type { ControlFlags } from '../control/control-context.js';
import type { ExitCodeValue } from '../errors.js';
import { controlOptions } from './control-options.js';
import type { Register } from './register.js';

export interface StatusFlags extends ControlFlags {
  minObservation: string;
}

const STATUS_HELP = `
Reads the options with ec2:DescribeInstances and what the agent saw from its state file
(this instance) or from its CloudWatch metrics (--instance-id of another instance).
Exit code 0: ready or already enforced; 3: not ready (or enforced while containers lose their
tokens at hop limit 1); 2, 5: see README "Exit codes".

Examples:
  imds-sniff status
  imds-sniff status --format json
  imds-sniff status --instance-id i-0123456789abcdef0 --region eu-west-1`;

/** Loads control/ (only now: the EC2 client is large), parses the flags, then reports. */
export async function runStatus(flags: StatusFlags): Promise<ExitCodeValue> {
  const [{ controlContext }, { reportStatus }] = await Promise.all([import('../control/control-context.js'), import('../control/instance-status.js')]);
  const minObservationMs = parseDuration(flags.minObservation, '--min-observation');
  const ctx = await controlContext(flags);
  return reportStatus(ctx, flags, minObservationMs);
}

export const status: Register = (program, setResult) => {
  controlOptions(program.command('status').description("this instance's metadata options, what the agent saw, and whether IMDSv2 can be required"), false)
    .option('--min-observation <time>', 'observation window the verdict needs', '24h')
    .addHelpText('after', STATUS_HELP)
    .action((flags: StatusFlags) => setResult(runStatus(flags)));
};
