// commands/fleet/: `imds-sniff fleet launch-paths` — new launches IMDSv2-only: a hardened template version or configuration copy per group; its flags and help.

import { Option } from 'commander';
import { ExitCode, UsageError, type ExitCodeValue } from '../../errors.js';
import { jsonTerminalSafe, terminalSafe } from '../../text/terminal-safe.js';
import type { Register } from '../register.js';
import { DEFAULT_AUDIT_FILE, scopeFlags, scopeOptions, writeOutput, type ScopeFlags } from './shared.js';

interface LaunchFlags extends ScopeFlags {
  format: 'table' | 'json';
  apply?: boolean;
  dryRun?: boolean;
  setDefault?: boolean;
  instanceRefresh?: boolean;
  auditFile: string;
}

async function launchPathsAction(flags: LaunchFlags): Promise<ExitCodeValue> {
  const scope = scopeOptions(flags);
  if (flags.apply && flags.dryRun) throw new UsageError('--apply and --dry-run exclude each other', { hint: 'without --apply it is a dry run' });
  const [{ runLaunchPaths, FLEET_AUDIT_EVENT }, { AuditLog }, { progressReporter }, { describeStep }] = await Promise.all([
    import('../../fleet/run.js'), import('../../log/audit-log.js'), import('../../fleet/render/progress.js'), import('../../fleet/launch/plan.js'),
  ]);
  const audit = new AuditLog(flags.auditFile, FLEET_AUDIT_EVENT);
  if (flags.apply) audit.check();
  const progress = progressReporter();
  const { plan, done } = await runLaunchPaths({ ...scope, apply: flags.apply === true, setDefault: flags.setDefault === true, refresh: flags.instanceRefresh === true, audit }, progress.update).finally(progress.done);
  const failed = done.some((d) => d.result !== 'applied');
  const json = { apply: flags.apply === true, steps: plan.steps.map((step) => ({ ...step, change: describeStep(step), result: done.find((d) => d.step === step)?.result ?? (flags.apply ? 'not run' : 'planned'), created: done.find((d) => d.step === step)?.created ?? null })), skipped: plan.skipped };
  const lines = [
    plan.steps.length === 0 ? 'every Auto Scaling group already launches IMDSv2-only' : `${flags.apply ? 'changes' : 'plan (dry run; --apply to make these changes)'}:`,
    ...json.steps.map((s) => `  ${s.change}${flags.apply ? `: ${s.result}${s.created ? ` (${s.created})` : ''}` : ''}`),
    ...plan.skipped.map((x) => `  skipped ${x.scope.account} ${x.scope.region} ${x.group}: ${x.why}`),
  ];
  writeOutput(flags.format === 'json' ? `${jsonTerminalSafe(JSON.stringify(json, null, 2))}\n` : `${lines.map(terminalSafe).join('\n')}\n`, flags.output);
  return failed ? ExitCode.AWS_API : ExitCode.OK;
}

export const launchPaths: Register = (fleet, setResult) => {
  scopeFlags(fleet.command('launch-paths').description('make new launches IMDSv2-only: a launch template version or a launch configuration copy with HttpTokens=required per group, the group moved to it; a dry-run plan unless --apply'))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--apply', 'make the changes (default: print the plan)')
    .option('--dry-run', 'print the plan and change nothing (the default without --apply)')
    .option('--set-default', 'make each new template version its template\'s default (groups on $Default follow it; so does any other launcher using $Default)')
    .option('--instance-refresh', 'also start an instance refresh per group, replacing its running instances')
    .option('--audit-file <file>', 'JSON lines audit of every change (appended, 0640)', DEFAULT_AUDIT_FILE)
    .addHelpText('after', `
Per Auto Scaling group whose new launches still allow IMDSv1: from the template version it
launches, a new version with HttpTokens=required (one per source version, shared by its
groups), and the group set to that version (a group on $Latest follows by itself, one on
$Default with --set-default); a launch configuration, which cannot change, is copied to
NAME-imdsv2 with HttpTokens=required and the group moved to the copy. Running instances
keep their options until replaced (--instance-refresh) or enforced (fleet enforce).

IAM: the inventory's, plus ec2:CreateLaunchTemplateVersion, ec2:ModifyLaunchTemplate
(--set-default), autoscaling:CreateLaunchConfiguration, autoscaling:UpdateAutoScalingGroup,
autoscaling:StartInstanceRefresh (--instance-refresh), and iam:PassRole for a copied
configuration's instance profile.

Examples:
  imds-sniff fleet launch-paths --accounts organization --role-name ImdsSniffAdmin
  imds-sniff fleet launch-paths --regions eu-west-1 --apply --instance-refresh`)
    .action((flags: LaunchFlags) => setResult(launchPathsAction(flags)));
};
