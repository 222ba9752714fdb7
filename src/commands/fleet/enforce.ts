// commands/fleet/: `imds-sniff fleet enforce` — a wave: SSM Run Command runs the gated imds-sniff enforce on each ready instance; its flags and help.

import { Option } from 'commander';
import { ExitCode, UsageError, type ExitCodeValue } from '../../errors.js';
import { jsonTerminalSafe, terminalSafe } from '../../text/terminal-safe.js';
import { quote } from '../../text/quote.js';
import type { Register } from '../register.js';
import { days, DEFAULT_AUDIT_FILE, readAuditLines, scopeFlags, scopeOptions, waves, writeOutput, type ReportFlags } from './shared.js';
import { DEFAULT_METRICS_NAMESPACE } from '../../contract/metric-names.js';

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
    import('../../fleet/run.js'), import('../../log/audit-log.js'), import('../../fleet/render/progress.js'), import('../../fleet/aws/run-command.js'), import('../../config/duration.js'),
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

export const enforce: Register = (fleet, setResult) => {
  scopeFlags(fleet.command('enforce').description("a wave: SSM Run Command runs the gated imds-sniff enforce on each ready instance of it; collects enforced / refused (with the process) / failed"))
    .requiredOption('--wave <n>', 'the wave: 0 disposable, 1 instance refresh, 2 stateful or hand-built')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--include-no-data', 'also send to instances without enough data (each instance\'s own gate still decides)')
    .option('--document <name>', 'SSM document: AWS-RunShellScript, or the imds-sniff document (packaging/ssm)', 'AWS-RunShellScript')
    .option('--host-args <flags>', 'flags for imds-sniff enforce on the instance: --min-observation, --timeout, --hop-limit, --dry-run (e.g. "--min-observation 7d")', '')
    .option('--max-concurrency <n|%>', 'SSM MaxConcurrency', '10%')
    .option('--max-errors <n|%>', 'SSM MaxErrors, and for the whole wave: no further batch of 50 once this many failed (a refusal counts)', '1')
    .option('--timeout <time>', 'how long to wait for every instance', '10m')
    .option('--days <n>', 'window of metrics for the report that picks the instances', '14')
    .option('--namespace <name>', "the agents' CloudWatch namespace", DEFAULT_METRICS_NAMESPACE)
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
};
