// commands/fleet/: `imds-sniff fleet dashboard` — a CloudWatch dashboard per account of who still calls IMDSv1, per wave; its flags and help.

import { Option } from 'commander';
import { ExitCode, UsageError, type ExitCodeValue } from '../../errors.js';
import { quote } from '../../text/quote.js';
import { jsonTerminalSafe, terminalSafe } from '../../text/terminal-safe.js';
import type { Register } from '../register.js';
import { days, DEFAULT_AUDIT_FILE, FLEET_HELP, scopeFlags, scopeOptions, waves, writeOutput, type ReportFlags } from './shared.js';
import { DEFAULT_METRICS_NAMESPACE } from '../../contract/metric-names.js';

interface DashboardFlags extends ReportFlags {
  name: string;
  dryRun?: boolean;
  auditFile: string;
}

async function dashboardAction(flags: DashboardFlags): Promise<ExitCodeValue> {
  const scope = scopeOptions(flags);
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(flags.name)) throw new UsageError(`--name: ${quote(flags.name)} is not a dashboard name (letters, digits, - and _)`);
  const options = { ...scope, days: days(flags.days), namespace: flags.namespace, waveOverrides: waves(flags.setWave), name: flags.name, dryRun: flags.dryRun === true };
  const [{ runDashboard, FLEET_AUDIT_EVENT }, { AuditLog }, { progressReporter }] = await Promise.all([import('../../fleet/run.js'), import('../../log/audit-log.js'), import('../../fleet/render/progress.js')]);
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

export const dashboard: Register = (fleet, setResult) => {
  scopeFlags(fleet.command('dashboard').description("writes a CloudWatch dashboard per account: top processes by IMDSv1 calls, and the instances that still call, per wave"))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--name <name>', 'dashboard name', 'imds-sniff-imdsv1')
    .option('--days <n>', 'window of metrics for the waves and the ranking, in days', '14')
    .option('--namespace <name>', "the agents' CloudWatch namespace", DEFAULT_METRICS_NAMESPACE)
    .option('--set-wave <id=n...>', 'put instances in a wave (as for report)')
    .option('--dry-run', 'print the dashboards (with -f json, their bodies); write nothing')
    .option('--audit-file <file>', 'JSON lines audit of every change (appended, 0640)', DEFAULT_AUDIT_FILE)
    .addHelpText('after', `${FLEET_HELP}\n  imds-sniff fleet dashboard --accounts organization --role-name ImdsSniffAudit\n\nIAM: also cloudwatch:PutDashboard.`)
    .action((flags: DashboardFlags) => setResult(dashboardAction(flags)));
};
