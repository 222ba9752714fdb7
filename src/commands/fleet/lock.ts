// commands/fleet/: `imds-sniff fleet lock` — IMDSv2 as the account default where every instance is enforced or excepted (or --undo); its flags and help.

import { Option } from 'commander';
import { ExitCode, type ExitCodeValue } from '../../errors.js';
import { jsonTerminalSafe, terminalSafe } from '../../text/terminal-safe.js';
import type { Register } from '../register.js';
import { DEFAULT_AUDIT_FILE, readAuditLines, scopeFlags, scopeOptions, writeOutput, type ScopeFlags } from './shared.js';

interface LockFlags extends ScopeFlags {
  format: 'table' | 'json';
  enforced?: boolean;
  dryRun?: boolean;
  undo?: boolean;
  auditFile: string;
}

async function lockAction(flags: LockFlags): Promise<ExitCodeValue> {
  const scope = scopeOptions(flags);
  const [{ runLock, runUnlock, FLEET_AUDIT_EVENT }, { AuditLog }, { progressReporter }] = await Promise.all([
    import('../../fleet/run.js'), import('../../log/audit-log.js'), import('../../fleet/render/progress.js'),
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

export const lock: Register = (fleet, setResult) => {
  scopeFlags(fleet.command('lock').description('when every instance of an account and region is enforced or excepted: make IMDSv2 the account default there (ModifyInstanceMetadataDefaults)'))
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
