// commands/fleet/: `imds-sniff fleet report` — the inventory joined with the agents' metrics: a verdict and a wave per instance; its flags and help.

import { Option } from 'commander';
import { ExitCode, type ExitCodeValue } from '../../errors.js';
import { jsonTerminalSafe } from '../../text/terminal-safe.js';
import type { Register } from '../register.js';
import { days, FLEET_HELP, scopeFlags, scopeOptions, waves, writeOutput, type ReportFlags } from './shared.js';
import { DEFAULT_METRICS_NAMESPACE } from '../../contract/metric-names.js';

async function reportAction(flags: ReportFlags): Promise<ExitCodeValue> {
  const scope = scopeOptions(flags);
  const options = { ...scope, days: days(flags.days), namespace: flags.namespace, waveOverrides: waves(flags.setWave) };
  const [{ runReport }, render, { reportHtml }, { progressReporter }] = await Promise.all([
    import('../../fleet/run.js'), import('../../fleet/render/report.js'), import('../../fleet/render/html.js'), import('../../fleet/render/progress.js'),
  ]);
  const progress = progressReporter();
  const { report, inventory } = await runReport(options, progress.update).finally(progress.done);
  const text = flags.format === 'json' ? jsonTerminalSafe(render.reportJson(report)) : flags.format === 'csv' ? render.reportCsv(report)
    : flags.format === 'html' ? reportHtml(report) : render.reportText(report, { allInstances: flags.all === true });
  writeOutput(text, flags.output);
  return inventory.errors.length > 0 ? ExitCode.AWS_API : ExitCode.OK;
}

export const report: Register = (fleet, setResult) => {
  scopeFlags(fleet.command('report').description("the inventory joined with the agents' metrics and EC2's MetadataNoToken: a verdict and a wave per instance, the fix per process and launch path"))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'csv', 'html']).default('table'))
    .option('--all', 'with the table format: every instance, not only those that need work')
    .option('--days <n>', 'window of metrics to judge by, in days', '14')
    .option('--namespace <name>', "the agents' CloudWatch namespace", DEFAULT_METRICS_NAMESPACE)
    .option('--set-wave <id=n...>', 'put instances in a wave: i-0abc=0,i-0def=2 (repeatable); else the tag imds-sniff:wave, then group membership')
    .addHelpText('after', FLEET_HELP)
    .action((flags: ReportFlags) => setResult(reportAction(flags)));
};
