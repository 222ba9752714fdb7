// commands/fleet/: what the fleet subcommands share — the scope flags (accounts, regions, role), the report window, the audit file, writing the output.

import { constants, openSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { OutputError, UsageError } from '../../errors.js';
import { LineWriter } from '../../sinks/line-writer.js';
import { quote } from '../../text/quote.js';

export interface ScopeFlags {
  accounts?: string;
  regions?: string;
  roleName?: string;
  region?: string;
  endpointUrl?: string;
  output?: string;
  all?: boolean;
}

/** The flags of report and of the subcommands that build on a report (dashboard, enforce). */
export interface ReportFlags extends ScopeFlags {
  format: 'table' | 'json' | 'csv' | 'html';
  days: string;
  namespace: string;
  setWave?: string[];
}

export const DEFAULT_AUDIT_FILE = 'imds-sniff-fleet-audit.jsonl';

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

/** --days, checked: 1 to 455 (CloudWatch keeps daily data that long). */
export function days(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 455) throw new UsageError(`--days: ${quote(text)} is not a whole number of days from 1 to 455`, { hint: 'CloudWatch keeps daily data for 455 days' });
  return n;
}

/** --set-wave values, checked: instance id → wave. */
export function waves(values: string[] | undefined): Map<string, 0 | 1 | 2> {
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

/** The audit file's lines, for `flag` (--undo, --rollback) to find the changes to take back. */
export function readAuditLines(file: string, flag: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read the audit file ${quote(file, Infinity)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { hint: 'give --audit-file the file the change wrote' });
  }
}

/** Adds the scope flags every fleet subcommand takes. */
export function scopeFlags(command: Command): Command {
  return command
    .option('--accounts <ids>', 'account ids separated by commas, or "organization" for every active account (AWS Organizations); default: the caller\'s')
    .option('--regions <names>', 'regions separated by commas; default: every region enabled for the caller')
    .option('--role-name <name>', 'role to assume in each account other than the caller\'s (sts:AssumeRole)')
    .option('--region <region>', 'region for STS and Organizations, and for listing regions (default AWS_REGION, else us-east-1)')
    .option('--endpoint-url <url>', 'one endpoint for every AWS API (an emulator)')
    .option('-o, --output <file>', 'write to FILE (replaced, mode 0640) instead of stdout');
}

/** The help every read-only fleet subcommand ends with. */
export const FLEET_HELP = `
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
