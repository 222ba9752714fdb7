// commands/: `imds-sniff enforce` — its flags and help; parses them into a plan and runs control/ (instance or launch template), loaded on use.

import { parseDuration } from '../config/duration.js';
import type { ControlFlags } from '../control/control-context.js';
import type { EnforcePlan } from '../control/decide-gate.js';
import { HOP_LIMIT_MAX, HOP_LIMIT_MIN } from '../control/metadata-options.js';
import { UsageError, type ExitCodeValue } from '../errors.js';
import { controlOptions } from './control-options.js';
import type { Register } from './register.js';

export interface EnforceFlags extends ControlFlags {
  minObservation: string;
  timeout: string;
  force?: boolean;
  hopLimit?: string;
  disableEndpoint?: boolean;
  dryRun?: boolean;
  launchTemplate?: string;
  setDefault?: boolean;
}

const ENFORCE_HELP = `
Sets HttpTokens=required (HttpEndpoint stays enabled) with ec2:ModifyInstanceMetadataOptions once the
agent has observed the instance for --min-observation with no IMDSv1 call; waits until EC2 reports
the change applied, then checks IMDS on this host: a token-less GET must get 401, an IMDSv2 GET 200.
The previous options are recorded (<stateDir>/changes.json) for imds-sniff rollback; each change
is one audit line in the events log.
Exit codes: 0 done (or nothing to do), 6 the gate refused or another enforce/rollback runs
(nothing changed), 7 applied but not verified, 5 AWS error (with no answer to the change itself:
it may have been made, see imds-sniff status), 2 bad flag or the record cannot be written.

Examples:
  imds-sniff enforce --dry-run
  imds-sniff enforce
  imds-sniff enforce --min-observation 72h --hop-limit 2
  imds-sniff enforce --instance-id i-0123456789abcdef0 --region eu-west-1
  imds-sniff enforce --launch-template lt-0123456789abcdef0 --set-default`;

function parseHopLimit(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < HOP_LIMIT_MIN || n > HOP_LIMIT_MAX) throw new UsageError(`--hop-limit: "${text}" must be an integer ${HOP_LIMIT_MIN}..${HOP_LIMIT_MAX}`);
  return n;
}

function plan(flags: EnforceFlags): EnforcePlan {
  if (flags.setDefault && flags.launchTemplate === undefined) throw new UsageError('--set-default needs --launch-template');
  return {
    minObservationMs: parseDuration(flags.minObservation, '--min-observation'),
    timeoutMs: parseDuration(flags.timeout, '--timeout'),
    request: { disableEndpoint: flags.disableEndpoint === true, hopLimit: flags.hopLimit === undefined ? null : parseHopLimit(flags.hopLimit) },
    force: flags.force === true,
    dryRun: flags.dryRun === true,
  };
}

/** Loads control/ (only now: the EC2 client is large), parses the flags, then runs the change under the change lock. */
export async function runEnforce(flags: EnforceFlags): Promise<ExitCodeValue> {
  const [{ controlContext }, { holdingChangeLock }, { enforceInstance }, { enforceTemplate }] = await Promise.all([
    import('../control/control-context.js'), import('../control/change-run.js'), import('../control/enforce-instance.js'), import('../control/enforce-template.js'),
  ]);
  const p = plan(flags);
  const ctx = await controlContext(flags);
  return holdingChangeLock(ctx, () => (flags.launchTemplate === undefined ? enforceInstance(ctx, flags, p) : enforceTemplate(ctx, flags, p, flags.launchTemplate)));
}

export const enforce: Register = (program, setResult) => {
  controlOptions(program.command('enforce').description('require IMDSv2 (HttpTokens=required) when the agent saw no IMDSv1 caller; verify; record for rollback'), true)
    .option('--min-observation <time>', 'how long the agent must have observed, with no IMDSv1 call', '24h')
    .option('--force', 'change even when the gate refuses (said in the audit line)')
    .option('--hop-limit <n>', 'set HttpPutResponseHopLimit (default: keep; raised to 2 when container token requests were lost at the hop)')
    .option('--disable-endpoint', 'turn IMDS off (HttpEndpoint=disabled); gated on no IMDS call at all')
    .option('--dry-run', 'check the gate and the IAM permission (EC2 DryRun); change nothing')
    .option('--timeout <time>', 'how long to wait for State=applied and for IMDS to answer as expected', '2m')
    .option('--launch-template <id>', 'harden this launch template (lt-… or name) instead of the instance: new version with HttpTokens=required')
    .option('--set-default', 'with --launch-template: make the new version the default')
    .addHelpText('after', ENFORCE_HELP)
    .action((flags: EnforceFlags) => setResult(runEnforce(flags)));
};
