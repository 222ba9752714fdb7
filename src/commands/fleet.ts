// commands/: `imds-sniff fleet inventory|report` — flags, help and output; the work is in fleet/ (loaded on use: the AWS SDKs are large).

import { constants, openSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ExitCode, OutputError, UsageError, type ExitCodeValue } from '../errors.js';
import { LineWriter } from '../sinks/line-writer.js';
import { jsonTerminalSafe, terminalSafe } from '../text/terminal-safe.js';
import { quote } from '../text/quote.js';
import type { Register } from './register.js';

interface ScopeFlags {
  accounts?: string;
  regions?: string;
  roleName?: string;
  region?: string;
  endpointUrl?: string;
  output?: string;
  all?: boolean;
}

interface InventoryFlags extends ScopeFlags {
  format: 'table' | 'json' | 'csv';
}

interface ReportFlags extends ScopeFlags {
  format: 'table' | 'json' | 'csv' | 'html';
  days: string;
  namespace: string;
  setWave?: string[];
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

function list(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** The scope flags, checked: account ids, 'organization', region names. */
export function scopeOptions(flags: ScopeFlags): { accounts: string[] | 'organization' | null; regions: string[] | null; roleName: string | null; endpointUrl: string | null; homeRegion: string } {
  const accounts = flags.accounts === 'organization' ? 'organization' : list(flags.accounts);
  if (Array.isArray(accounts)) {
    const bad = accounts.find((a) => !ACCOUNT.test(a));
    if (bad !== undefined || accounts.length === 0) throw new UsageError(`--accounts: ${quote(bad ?? flags.accounts ?? '')} is not a 12-digit account id`, { hint: 'give account ids separated by commas, or "organization"' });
  }
  const regions = list(flags.regions);
  if (regions !== null) {
    const bad = regions.find((r) => !REGION.test(r));
    if (bad !== undefined || regions.length === 0) throw new UsageError(`--regions: ${quote(bad ?? flags.regions ?? '')} is not a region name`, { hint: 'e.g. --regions us-east-1,eu-west-1' });
  }
  const homeRegion = flags.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
  if (!REGION.test(homeRegion)) throw new UsageError(`--region: ${quote(homeRegion)} is not a region name`);
  if (flags.roleName !== undefined && !/^[\w+=,.@/-]{1,64}$/.test(flags.roleName)) throw new UsageError(`--role-name: ${quote(flags.roleName)} is not an IAM role name`);
  return { accounts, regions, roleName: flags.roleName ?? null, endpointUrl: flags.endpointUrl ?? null, homeRegion };
}

/** Writes the whole output to stdout, or to FILE (created 0640, replaced, never through a symbolic link); synchronously, so a pipe gets all of it. */
export function writeOutput(text: string, file: string | undefined): void {
  let fd = 1;
  if (file !== undefined) {
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o640);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      throw new UsageError(`--output: cannot write ${quote(file, Infinity)}: ${e.code === 'ELOOP' ? 'it is a symbolic link' : e.code ?? e.message}`);
    }
  }
  const writer = new LineWriter(fd);
  writer.write(text);
  writer.close();
  if (writer.failure !== null) throw new OutputError(writer.failure, file ?? 'stdout');
}

function days(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 455) throw new UsageError(`--days: ${quote(text)} is not a whole number of days from 1 to 455`, { hint: 'CloudWatch keeps daily data for 455 days' });
  return n;
}

function waves(values: string[] | undefined): Map<string, 0 | 1 | 2> {
  const out = new Map<string, 0 | 1 | 2>();
  for (const v of values ?? []) {
    for (const part of v.split(',')) {
      const m = /^(i-[0-9a-f]{8,17})=([012])$/.exec(part.trim());
      if (!m) throw new UsageError(`--set-wave: ${quote(part)} is not INSTANCE_ID=0|1|2`);
      out.set(m[1] as string, Number(m[2]) as 0 | 1 | 2);
    }
  }
  return out;
}

async function inventoryAction(flags: InventoryFlags): Promise<ExitCodeValue> {
  const scope = scopeOptions(flags);
  const [{ runInventory }, render, { progressReporter }] = await Promise.all([import('../fleet/run.js'), import('../fleet/render/inventory.js'), import('../fleet/render/progress.js')]);
  const progress = progressReporter();
  const { inventory } = await runInventory(scope, progress.update).finally(progress.done);
  const text = flags.format === 'json' ? jsonTerminalSafe(render.inventoryJson(inventory)) : flags.format === 'csv' ? render.inventoryCsv(inventory) : render.inventoryText(inventory, { allInstances: flags.all === true });
  writeOutput(text, flags.output);
  return inventory.errors.length > 0 ? ExitCode.AWS_API : ExitCode.OK;
}

async function reportAction(flags: ReportFlags): Promise<ExitCodeValue> {
  const scope = scopeOptions(flags);
  const options = { ...scope, days: days(flags.days), namespace: flags.namespace, waveOverrides: waves(flags.setWave) };
  const [{ runReport }, render, { reportHtml }, { progressReporter }] = await Promise.all([
    import('../fleet/run.js'), import('../fleet/render/report.js'), import('../fleet/render/html.js'), import('../fleet/render/progress.js'),
  ]);
  const progress = progressReporter();
  const { report, inventory } = await runReport(options, progress.update).finally(progress.done);
  const text = flags.format === 'json' ? jsonTerminalSafe(render.reportJson(report)) : flags.format === 'csv' ? render.reportCsv(report)
    : flags.format === 'html' ? reportHtml(report) : render.reportText(report, { allInstances: flags.all === true });
  writeOutput(text, flags.output);
  return inventory.errors.length > 0 ? ExitCode.AWS_API : ExitCode.OK;
}

interface DashboardFlags extends ReportFlags {
  name: string;
  dryRun?: boolean;
  auditFile: string;
}

async function dashboardAction(flags: DashboardFlags): Promise<ExitCodeValue> {
  const scope = scopeOptions(flags);
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(flags.name)) throw new UsageError(`--name: ${quote(flags.name)} is not a dashboard name (letters, digits, - and _)`);
  const options = { ...scope, days: days(flags.days), namespace: flags.namespace, waveOverrides: waves(flags.setWave), name: flags.name, dryRun: flags.dryRun === true };
  const [{ runDashboard, FLEET_AUDIT_EVENT }, { AuditLog }, { progressReporter }] = await Promise.all([import('../fleet/run.js'), import('../sinks/audit-log.js'), import('../fleet/render/progress.js')]);
  const audit = new AuditLog(flags.auditFile, FLEET_AUDIT_EVENT);
  if (!options.dryRun) audit.check();
  const progress = progressReporter();
  const { run, dashboards } = await runDashboard(options, progress.update).finally(progress.done);
  for (const d of dashboards) {
    if (d.written) audit.write({ time: new Date().toISOString(), action: 'dashboard', result: 'written', account: d.account, name: options.name, widgets: d.body.widgets.length, messages: d.written.messages });
  }
  const json = { dry_run: options.dryRun, dashboards: dashboards.map((d) => ({ account: d.account, name: options.name, widgets: d.body.widgets.length, messages: d.written?.messages ?? [], ...(options.dryRun ? { body: d.body } : {}) })) };
  const lines = dashboards.map((d) => `${options.dryRun ? 'would write' : 'wrote'} dashboard ${options.name} in ${d.account}: ${d.body.widgets.length} widgets${d.written && d.written.messages.length > 0 ? `; CloudWatch says: ${d.written.messages.join('; ')}` : ''}`);
  writeOutput(flags.format === 'json' ? `${jsonTerminalSafe(JSON.stringify(json, null, 2))}\n` : `${lines.map(terminalSafe).join('\n')}\n`, flags.output);
  return run.inventory.errors.length > 0 ? ExitCode.AWS_API : ExitCode.OK;
}

interface LockFlags extends ScopeFlags {
  format: 'table' | 'json';
  enforced?: boolean;
  dryRun?: boolean;
  undo?: boolean;
  auditFile: string;
}

const DEFAULT_AUDIT_FILE = 'imds-sniff-fleet-audit.jsonl';

/** The audit file's lines, for `flag` (--undo, --rollback) to find the changes to take back. */
function readAuditLines(file: string, flag: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read the audit file ${quote(file, Infinity)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { hint: 'give --audit-file the file the change wrote' });
  }
}

async function lockAction(flags: LockFlags): Promise<ExitCodeValue> {
  const scope = scopeOptions(flags);
  const [{ runLock, runUnlock, FLEET_AUDIT_EVENT }, { AuditLog }, { progressReporter }] = await Promise.all([
    import('../fleet/run.js'), import('../sinks/audit-log.js'), import('../fleet/render/progress.js'),
  ]);
  const audit = new AuditLog(flags.auditFile, FLEET_AUDIT_EVENT);
  if (!flags.dryRun) audit.check();
  if (flags.undo) {
    const auditLines = readAuditLines(flags.auditFile, '--undo');
    const restored = await runUnlock({ ...scope, dryRun: flags.dryRun === true, audit, auditLines });
    const text = flags.format === 'json' ? `${jsonTerminalSafe(JSON.stringify({ undo: restored }, null, 2))}\n`
      : restored.length === 0 ? 'nothing to undo: no applied lock in the audit file for this scope\n'
        : `${restored.map((r) => `${r.account} ${r.region}: HttpTokens ${r.restore.httpTokens ?? 'no-preference'}${r.restore.httpTokensEnforced ? ', enforced' : ''}: ${r.result}`).join('\n')}\n`;
    writeOutput(text, flags.output);
    return restored.every((r) => r.result === 'restored' || r.result === 'would restore') ? ExitCode.OK : ExitCode.AWS_API;
  }
  const progress = progressReporter();
  const { steps, refused } = await runLock({ ...scope, enforce: flags.enforced === true, dryRun: flags.dryRun === true, audit }, progress.update).finally(progress.done);
  const text = flags.format === 'json' ? `${jsonTerminalSafe(JSON.stringify({ dry_run: flags.dryRun === true, refused, steps }, null, 2))}\n`
    : `${steps.map((s) => `${s.account} ${s.region}: ${s.result}${s.reasons.length > 0 ? `\n  ${s.reasons.map(terminalSafe).join('\n  ')}` : ''}`).join('\n')}\n`;
  writeOutput(text, flags.output);
  if (refused) return ExitCode.GATE_REFUSED;
  return steps.every((s) => ['applied', 'done', 'would set'].includes(s.result)) ? ExitCode.OK : ExitCode.AWS_API;
}

interface EnforceFlags extends ReportFlags {
  wave: string;
  includeNoData?: boolean;
  document: string;
  hostArgs: string;
  maxConcurrency: string;
  maxErrors: string;
  timeout: string;
  dryRun?: boolean;
  rollback?: boolean;
  auditFile: string;
}

async function enforceAction(flags: EnforceFlags): Promise<ExitCodeValue> {
  const scope = scopeOptions(flags);
  if (!/^[012]$/.test(flags.wave)) throw new UsageError(`--wave: ${quote(flags.wave)} is not 0, 1 or 2`);
  const [{ runFleetEnforce, FLEET_AUDIT_EVENT }, { AuditLog }, { progressReporter }, { hostArgsProblem }, { parseDuration }] = await Promise.all([
    import('../fleet/run.js'), import('../sinks/audit-log.js'), import('../fleet/render/progress.js'), import('../fleet/aws/run-command.js'), import('../config/duration.js'),
  ]);
  const problem = hostArgsProblem(flags.hostArgs);
  if (problem !== null) throw new UsageError(`--host-args: ${quote(flags.hostArgs)}: ${problem}`, { hint: 'the gate on each instance must decide for itself: no --force, no --instance-id' });
  if (flags.rollback && flags.hostArgs !== '') throw new UsageError('--host-args is for enforce; --rollback takes none');
  if (!/^(\d{1,5}|\d{1,2}%|100%)$/.test(flags.maxConcurrency)) throw new UsageError(`--max-concurrency: ${quote(flags.maxConcurrency)} is not a number or a percentage`);
  if (!/^(\d{1,5}|\d{1,2}%|100%)$/.test(flags.maxErrors)) throw new UsageError(`--max-errors: ${quote(flags.maxErrors)} is not a number or a percentage`);
  if (!/^[A-Za-z0-9_.:/-]{3,128}$/.test(flags.document)) throw new UsageError(`--document: ${quote(flags.document)} is not an SSM document name`);
  if (flags.rollback && flags.document !== 'AWS-RunShellScript') throw new UsageError('--rollback runs through AWS-RunShellScript (the imds-sniff document has no rollback action)');
  const audit = new AuditLog(flags.auditFile, FLEET_AUDIT_EVENT);
  const auditLines = flags.rollback ? readAuditLines(flags.auditFile, '--rollback') : [];
  if (!flags.dryRun) audit.check();
  const wave = Number(flags.wave) as 0 | 1 | 2;
  const progress = progressReporter();
  const { targets, runs } = await runFleetEnforce({
    ...scope, days: days(flags.days), namespace: flags.namespace, waveOverrides: waves(flags.setWave), wave, includeNoData: flags.includeNoData === true,
    dryRun: flags.dryRun === true, rollback: flags.rollback === true, audit, auditLines,
    command: { document: flags.document, hostArgs: flags.hostArgs, maxConcurrency: flags.maxConcurrency, maxErrors: flags.maxErrors, timeoutMs: parseDuration(flags.timeout, '--timeout') },
  }, progress.update).finally(progress.done);
  const results = runs.flatMap((r) => r.results.map((x) => ({ ...x, account: r.scope.account, region: r.scope.region })));
  const planned = [...targets.byScope.values()].flatMap((s) => s.instanceIds.map((id) => ({ account: s.account, region: s.region, instanceId: id })));
  const json = { wave, action: flags.rollback ? 'rollback' : 'enforce', dry_run: flags.dryRun === true, targets: planned, skipped: targets.skipped, results, command_ids: runs.flatMap((r) => r.commandIds) };
  const count = (o: string): number => results.filter((r) => r.outcome === o).length;
  const lines = flags.dryRun
    ? [`wave ${wave}: would ${flags.rollback ? 'roll back' : 'enforce'} ${planned.length} instances; skipped ${targets.skipped.length}`, ...planned.map((p) => `  ${p.account} ${p.region} ${p.instanceId}`), ...targets.skipped.map((x) => `  skip ${x.instanceId}: ${x.why}`)]
    : [`wave ${wave}: ${count('enforced')} enforced, ${count('rolled-back')} rolled back, ${count('refused')} refused, ${count('failed')} failed, ${targets.skipped.length} skipped`,
      ...results.map((r) => `  ${r.account} ${r.region} ${r.instanceId}: ${r.outcome}${r.detail ? ` (${r.detail})` : ''}`), ...targets.skipped.map((x) => `  skip ${x.instanceId}: ${x.why}`)];
  writeOutput(flags.format === 'json' ? `${jsonTerminalSafe(JSON.stringify(json, null, 2))}\n` : `${lines.map(terminalSafe).join('\n')}\n`, flags.output);
  if (count('failed') > 0) return ExitCode.AWS_API;
  return count('refused') > 0 ? ExitCode.GATE_REFUSED : ExitCode.OK;
}

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
    import('../fleet/run.js'), import('../sinks/audit-log.js'), import('../fleet/render/progress.js'), import('../fleet/launch/plan.js'),
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

function scopeFlags(command: Command): Command {
  return command
    .option('--accounts <ids>', 'account ids separated by commas, or "organization" for every active account (AWS Organizations); default: the caller\'s')
    .option('--regions <names>', 'regions separated by commas; default: every region enabled for the caller')
    .option('--role-name <name>', 'role to assume in each account other than the caller\'s (sts:AssumeRole)')
    .option('--region <region>', 'region for STS and Organizations, and for listing regions (default AWS_REGION, else us-east-1)')
    .option('--endpoint-url <url>', 'one endpoint for every AWS API (an emulator)')
    .option('-o, --output <file>', 'write to FILE (replaced, mode 0640) instead of stdout');
}

const FLEET_HELP = `
Read-only: inventory and report change nothing. Throttling is retried (with backoff and a
client-side rate limit) until it passes; a scope that cannot be read (not authorized, no
role) is listed under "Not read" and the exit code is 5.

IAM (caller, or the role in each account): ec2:DescribeInstances, ec2:DescribeImages,
ec2:DescribeLaunchTemplates, ec2:DescribeLaunchTemplateVersions, ec2:DescribeRegions,
ec2:GetInstanceMetadataDefaults, autoscaling:DescribeAutoScalingGroups,
autoscaling:DescribeLaunchConfigurations; report also cloudwatch:ListMetrics,
cloudwatch:GetMetricData; --accounts organization: organizations:ListAccounts.

Examples:
  imds-sniff fleet inventory --regions us-east-1,eu-west-1
  imds-sniff fleet inventory --accounts organization --role-name ImdsSniffAudit -f csv -o imds.csv
  imds-sniff fleet report --days 14 -f html -o imdsv1.html`;

export const fleet: Register = (program, setResult) => {
  const group = program.command('fleet').description('across accounts and regions: what still allows IMDSv1, who still uses it, what can be switched');
  scopeFlags(group.command('inventory').description('instances, launch templates, launch configurations, Auto Scaling groups and account defaults: which allow IMDSv1, and why'))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .option('--all', 'with the table format: every instance, not only those that allow IMDSv1')
    .addHelpText('after', FLEET_HELP)
    .action((flags: InventoryFlags) => setResult(inventoryAction(flags)));
  scopeFlags(group.command('report').description("the inventory joined with the agents' metrics and EC2's MetadataNoToken: a verdict and a wave per instance, the fix per process and launch path"))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'csv', 'html']).default('table'))
    .option('--all', 'with the table format: every instance, not only those that need work')
    .option('--days <n>', 'window of metrics to judge by, in days', '14')
    .option('--namespace <name>', "the agents' CloudWatch namespace", 'IMDSSniff')
    .option('--set-wave <id=n...>', 'put instances in a wave: i-0abc=0,i-0def=2 (repeatable); else the tag imds-sniff:wave, then group membership')
    .addHelpText('after', FLEET_HELP)
    .action((flags: ReportFlags) => setResult(reportAction(flags)));
  scopeFlags(group.command('dashboard').description("writes a CloudWatch dashboard per account: top processes by IMDSv1 calls, and the instances that still call, per wave"))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--name <name>', 'dashboard name', 'imds-sniff-imdsv1')
    .option('--days <n>', 'window of metrics for the waves and the ranking, in days', '14')
    .option('--namespace <name>', "the agents' CloudWatch namespace", 'IMDSSniff')
    .option('--set-wave <id=n...>', 'put instances in a wave (as for report)')
    .option('--dry-run', 'print the dashboards (with -f json, their bodies); write nothing')
    .option('--audit-file <file>', 'JSON lines audit of every change (appended, 0640)', DEFAULT_AUDIT_FILE)
    .addHelpText('after', `${FLEET_HELP}\n  imds-sniff fleet dashboard --accounts organization --role-name ImdsSniffAudit\n\nIAM: also cloudwatch:PutDashboard.`)
    .action((flags: DashboardFlags) => setResult(dashboardAction(flags)));
  scopeFlags(group.command('enforce').description("a wave: SSM Run Command runs the gated imds-sniff enforce on each ready instance of it; collects enforced / refused (with the process) / failed"))
    .requiredOption('--wave <n>', 'the wave: 0 disposable, 1 instance refresh, 2 stateful or hand-built')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--include-no-data', 'also send to instances without enough data (each instance\'s own gate still decides)')
    .option('--document <name>', 'SSM document: AWS-RunShellScript, or the imds-sniff document (packaging/ssm)', 'AWS-RunShellScript')
    .option('--host-args <flags>', 'flags for imds-sniff enforce on the instance: --min-observation, --timeout, --hop-limit, --dry-run (e.g. "--min-observation 7d")', '')
    .option('--max-concurrency <n|%>', 'SSM MaxConcurrency', '10%')
    .option('--max-errors <n|%>', 'SSM MaxErrors, and for the whole wave: no further batch of 50 once this many failed (a refusal counts)', '1')
    .option('--timeout <time>', 'how long to wait for every instance', '10m')
    .option('--days <n>', 'window of metrics for the report that picks the instances', '14')
    .option('--namespace <name>', "the agents' CloudWatch namespace", 'IMDSSniff')
    .option('--set-wave <id=n...>', 'put instances in a wave (as for report)')
    .option('--dry-run', 'list the instances the wave would be sent to, and those skipped; send nothing')
    .option('--rollback', 'run imds-sniff rollback on the instances the last run of this wave enforced (from the audit file)')
    .option('--audit-file <file>', 'JSON lines audit: one line per instance and outcome (appended, 0640)', DEFAULT_AUDIT_FILE)
    .addHelpText('after', `
Only ready instances are sent the command (the agent saw no IMDSv1 for the whole window);
blocked, excepted and unobserved ones are listed as skipped. On each instance the gated
imds-sniff enforce reads its own agent's evidence again and refuses if anything changed.
Exit 0 when every instance was enforced, 6 when one refused, 5 when one failed.

IAM: the report's, plus ssm:SendCommand (on the document and the instances) and
ssm:ListCommandInvocations; on the instances, imds-sniff enforce's own (README).

Examples:
  imds-sniff fleet enforce --wave 0 --dry-run
  imds-sniff fleet enforce --wave 0 --max-concurrency 20% --max-errors 2
  imds-sniff fleet enforce --wave 0 --rollback`)
    .action((flags: EnforceFlags) => setResult(enforceAction(flags)));
  scopeFlags(group.command('launch-paths').description('make new launches IMDSv2-only: a launch template version or a launch configuration copy with HttpTokens=required per group, the group moved to it; a dry-run plan unless --apply'))
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
  scopeFlags(group.command('lock').description('when every instance of an account and region is enforced or excepted: make IMDSv2 the account default there (ModifyInstanceMetadataDefaults)'))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--enforced', 'also refuse launches that would allow IMDSv1 (HttpTokensEnforced=enabled)')
    .option('--dry-run', 'print what would change; change nothing')
    .option('--undo', 'restore the defaults each scope had before its last lock in the audit file')
    .option('--audit-file <file>', 'JSON lines audit of every change (appended, 0640)', DEFAULT_AUDIT_FILE)
    .addHelpText('after', `
Refused (exit 6, nothing changed anywhere) while an instance in scope still allows IMDSv1
without a valid exception tag, while something could not be read, when an Organizations
declarative policy sets the defaults, and with --enforced while a group would launch with
IMDSv1 or an excepted instance exists. Each change is read back and audited, with the
values before it (--undo restores them).

IAM: the inventory's, plus ec2:ModifyInstanceMetadataDefaults.

Examples:
  imds-sniff fleet lock --accounts 111122223333 --regions eu-west-1 --dry-run
  imds-sniff fleet lock --accounts organization --role-name ImdsSniffAdmin --enforced
  imds-sniff fleet lock --accounts 111122223333 --regions eu-west-1 --undo`)
    .action((flags: LockFlags) => setResult(lockAction(flags)));
};
