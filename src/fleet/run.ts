// fleet/: the fleet commands' work: resolve the scope, read the inventory, read the metrics, build the report.

import { collectInventory, type CollectProgress } from './aws/collect.js';
import { putDashboard, type DashboardWritten } from './aws/put-dashboard.js';
import { readFleetMetrics } from './aws/read-metrics.js';
import { resolveAccounts, resolveRegions, scopesOf, type ScopeChoice } from './aws/scope.js';
import { FleetAws } from './aws/session.js';
import { readDefaults, writeDefaults, type DefaultsState } from './aws/metadata-defaults.js';
import { runOnInstances, type RunCommandOptions, type ScopeRun } from './aws/run-command.js';
import { applyLaunchStep, type MadeVersions } from './aws/apply-launch.js';
import { describeStep, launchPlan, type LaunchPlan, type LaunchStep } from './launch/plan.js';
import { awsErrorCode } from '../aws/aws-errors.js';
import { waveTargets, type WaveTargets } from './enforce/targets.js';
import { dashboardBody, type DashboardBody } from './dashboard/body.js';
import { lockPlan, type LockStep } from './lock/plan.js';
import type { AuditLog } from '../log/audit-log.js';
import { UsageError } from '../errors.js';
import type { Inventory, Scope } from './model.js';
import { buildReport, DAY_MS, windowStart } from './report/build.js';
import type { FleetReport, Wave } from './report/model.js';

/** The event name of the fleet's audit lines. */
export const FLEET_AUDIT_EVENT = 'fleet_change';

export interface FleetScopeOptions extends ScopeChoice {
  roleName: string | null;
  endpointUrl: string | null;
  homeRegion: string;
}

/** Another account can only be read through a role assumed in it: without --role-name the caller's own would be read under its name. */
async function requireRoleForOthers(aws: FleetAws, accounts: string[], options: FleetScopeOptions): Promise<void> {
  if (options.roleName !== null) return;
  const caller = await aws.account();
  const others = accounts.filter((a) => a !== caller);
  if (others.length > 0) {
    throw new UsageError(`--accounts: ${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} not the caller's account (${caller}) and no --role-name was given`, {
      hint: 'give --role-name, a role in each account that trusts the caller',
    });
  }
}

/** The caller's clients, and the account × region scopes the flags name (another account only through --role-name). */
async function resolveScope(options: FleetScopeOptions): Promise<{ aws: FleetAws; scopes: Scope[] }> {
  const aws = new FleetAws({ endpointUrl: options.endpointUrl, roleName: options.roleName, homeRegion: options.homeRegion });
  const accounts = await resolveAccounts(aws, options.accounts, options.homeRegion);
  await requireRoleForOthers(aws, accounts, options);
  const regions = await resolveRegions(aws, options.regions, options.homeRegion);
  return { aws, scopes: scopesOf(accounts, regions) };
}

export interface InventoryRun {
  inventory: Inventory;
  aws: FleetAws;
  wallMs: number;
}

/** Resolves accounts and regions, then reads every scope. */
export async function runInventory(options: FleetScopeOptions, onProgress?: (p: CollectProgress) => void): Promise<InventoryRun> {
  const started = performance.now();
  const { aws, scopes } = await resolveScope(options);
  const inventory = await collectInventory(aws, scopes, onProgress);
  return { inventory, aws, wallMs: performance.now() - started };
}

export interface ReportRunOptions extends FleetScopeOptions {
  days: number;
  namespace: string;
  waveOverrides: Map<string, Wave>;
  nowMs?: number;
}

export interface ReportRun extends InventoryRun {
  report: FleetReport;
  series: number;
  getMetricDataCalls: number;
}

/** The inventory, then the metrics of its instances over the window, then the verdicts. */
export async function runReport(options: ReportRunOptions, onProgress?: (p: CollectProgress) => void): Promise<ReportRun> {
  const started = performance.now();
  const run = await runInventory(options, onProgress);
  const nowMs = options.nowMs ?? Date.now();
  const reportOptions = { windowDays: options.days, nowMs, waveOverrides: options.waveOverrides };
  const metrics = await readFleetMetrics(run.aws, run.inventory, { namespace: options.namespace, startMs: windowStart(reportOptions), endMs: Math.floor(nowMs / DAY_MS) * DAY_MS + DAY_MS });
  run.inventory.errors.push(...metrics.errors);
  run.inventory.calls = { ...run.aws.calls };
  const report = buildReport(run.inventory, metrics.byInstance, reportOptions);
  report.collection = { calls: { ...run.aws.calls }, series: metrics.series, getMetricDataCalls: metrics.getMetricDataCalls };
  return { ...run, report, series: metrics.series, getMetricDataCalls: metrics.getMetricDataCalls, wallMs: performance.now() - started };
}

export interface DashboardRunOptions extends ReportRunOptions {
  name: string;
  dryRun: boolean;
}

/** The report, then one dashboard per account (written unless a dry run). */
export async function runDashboard(options: DashboardRunOptions, onProgress?: (p: CollectProgress) => void): Promise<{ run: ReportRun; dashboards: { account: string; body: DashboardBody; written: DashboardWritten | null }[] }> {
  const run = await runReport(options, onProgress);
  const accounts = [...new Set(run.inventory.scopes.map((s) => s.account))].sort();
  const dashboards = [];
  for (const account of accounts) {
    const body = dashboardBody(run.report, account, options.namespace);
    const written = options.dryRun ? null : await putDashboard(run.aws, account, options.homeRegion, options.name, body);
    dashboards.push({ account, body, written });
  }
  return { run, dashboards };
}

export interface LockRunOptions extends FleetScopeOptions {
  enforce: boolean;
  dryRun: boolean;
  audit: AuditLog;
}

/**
 * The inventory, the lock plan, then each scope whose plan says `set`:
 * ModifyInstanceMetadataDefaults, read back, one audit line each (with the
 * values before, for `--undo`). Nothing is changed when any scope is refused.
 */
export async function runLock(options: LockRunOptions, onProgress?: (p: CollectProgress) => void): Promise<{ steps: (LockStep & { result: string })[]; refused: boolean }> {
  const { inventory, aws } = await runInventory(options, onProgress);
  const plan = lockPlan(inventory, { enforce: options.enforce, nowMs: Date.now() });
  const refused = plan.some((s) => s.action === 'refused');
  const steps: (LockStep & { result: string })[] = [];
  for (const step of plan) {
    if (step.action !== 'set' || refused || options.dryRun) {
      steps.push({ ...step, result: step.action === 'set' ? (refused ? 'not changed (another scope refused)' : 'would set') : step.action });
      continue;
    }
    const scope = { account: step.account, region: step.region };
    await writeDefaults(aws, scope, { httpTokens: 'required', httpTokensEnforced: step.after.httpTokensEnforced || (step.before?.httpTokensEnforced ?? false) });
    const now = await readDefaults(aws, scope);
    const result = now.httpTokens === 'required' && (!options.enforce || now.httpTokensEnforced) ? 'applied' : 'not applied (read back differs)';
    options.audit.write({ time: new Date().toISOString(), action: 'lock', result, account: step.account, region: step.region, before: step.before, after: now });
    steps.push({ ...step, result });
  }
  return { steps, refused };
}

/** Restores the defaults each scope had before its last applied lock in the audit file. */
export async function runUnlock(options: FleetScopeOptions & { dryRun: boolean; audit: AuditLog; auditLines: string[] }): Promise<{ account: string; region: string; restore: DefaultsState; result: string }[]> {
  const { aws, scopes } = await resolveScope(options);
  const wanted = new Set(scopes.map((x) => `${x.account}/${x.region}`));
  const last = new Map<string, { account: string; region: string; before: DefaultsState | null }>();
  for (const line of options.auditLines) {
    let entry: { event?: string; action?: string; result?: string; account?: string; region?: string; before?: DefaultsState | null };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.event !== FLEET_AUDIT_EVENT || entry.action !== 'lock' || entry.result !== 'applied' || !entry.account || !entry.region) continue;
    // What is written back must be a state EC2 knows: a line edited by hand is not trusted.
    const b = entry.before;
    if (b != null && (![null, 'optional', 'required'].includes(b.httpTokens) || typeof b.httpTokensEnforced !== 'boolean')) {
      throw new UsageError(`--undo: the audit line of the lock of ${entry.account} ${entry.region} holds no valid "before" (${JSON.stringify(b).slice(0, 100)})`);
    }
    const key = `${entry.account}/${entry.region}`;
    if (wanted.has(key)) last.set(key, { account: entry.account, region: entry.region, before: entry.before ?? null });
  }
  const out = [];
  for (const { account, region, before } of last.values()) {
    const restore: DefaultsState = before ?? { httpTokens: null, httpTokensEnforced: false };
    if (options.dryRun) {
      out.push({ account, region, restore, result: 'would restore' });
      continue;
    }
    await writeDefaults(aws, { account, region }, restore);
    const now = await readDefaults(aws, { account, region });
    const result = now.httpTokens === restore.httpTokens && now.httpTokensEnforced === restore.httpTokensEnforced ? 'restored' : 'not restored (read back differs)';
    options.audit.write({ time: new Date().toISOString(), action: 'unlock', result, account, region, before: { httpTokens: 'required' }, after: now });
    out.push({ account, region, restore, result });
  }
  return out;
}

export interface EnforceRunOptions extends ReportRunOptions {
  wave: Wave;
  includeNoData: boolean;
  dryRun: boolean;
  rollback: boolean;
  command: Omit<RunCommandOptions, 'action' | 'comment'>;
  audit: AuditLog;
  /** For a rollback: the audit file's lines (the instances the wave's last enforce changed). */
  auditLines: string[];
}

export interface EnforceRun {
  targets: WaveTargets;
  runs: ScopeRun[];
}

/** The instances the last `fleet enforce` of this wave enforced, per scope (from the audit lines). */
export function lastWaveEnforced(lines: string[], wave: Wave): Map<string, { account: string; region: string; instanceIds: string[] }> {
  let lastRun: string | null = null;
  const byRun = new Map<string, { account: string; region: string; instanceId: string }[]>();
  for (const line of lines) {
    let e: { event?: string; action?: string; wave?: number; run?: string; result?: string; account?: string; region?: string; instance_id?: string };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      continue;
    }
    if (e.event !== FLEET_AUDIT_EVENT || e.action !== 'enforce' || e.wave !== wave || !e.run || !e.account || !e.region || !e.instance_id) continue;
    lastRun = e.run;
    if (e.result === 'enforced') byRun.set(e.run, [...(byRun.get(e.run) ?? []), { account: e.account, region: e.region, instanceId: e.instance_id }]);
  }
  const out = new Map<string, { account: string; region: string; instanceIds: string[] }>();
  for (const i of lastRun === null ? [] : byRun.get(lastRun) ?? []) {
    const key = `${i.account}/${i.region}`;
    const scope = out.get(key) ?? { account: i.account, region: i.region, instanceIds: [] };
    scope.instanceIds.push(i.instanceId);
    out.set(key, scope);
  }
  return out;
}

/**
 * A wave: the report picks its ready instances, SSM runs the gated
 * `imds-sniff enforce` on each (which checks again, locally), and every
 * instance's outcome is audited. With `rollback`, the instances the wave's
 * last run enforced get `imds-sniff rollback` instead.
 */
export async function runFleetEnforce(options: EnforceRunOptions, onProgress?: (p: CollectProgress) => void): Promise<EnforceRun> {
  const action = options.rollback ? 'rollback' : 'enforce';
  let targets: WaveTargets;
  let aws: FleetAws;
  if (options.rollback) {
    // The wave's last run as the audit has it, within the scope the flags give.
    const resolved = await resolveScope(options);
    aws = resolved.aws;
    const wanted = new Set(resolved.scopes.map((x) => `${x.account}/${x.region}`));
    const byScope = new Map([...lastWaveEnforced(options.auditLines, options.wave)].filter(([key]) => wanted.has(key)));
    targets = { wave: options.wave, byScope, skipped: [] };
  } else {
    const run = await runReport(options, onProgress);
    aws = run.aws;
    targets = waveTargets(run.report, options.wave, { includeNoData: options.includeNoData });
  }
  const runs: ScopeRun[] = [];
  if (options.dryRun) return { targets, runs };
  const runId = `${new Date().toISOString()}-${Math.random().toString(16).slice(2, 8)}`;
  for (const scope of targets.byScope.values()) {
    const done = await runOnInstances(aws, scope, scope.instanceIds, { ...options.command, action, comment: `imds-sniff fleet ${action} wave ${options.wave}` });
    for (const r of done.results) {
      options.audit.write({
        time: new Date().toISOString(), action, result: r.outcome, run: runId, wave: options.wave, account: scope.account, region: scope.region,
        instance_id: r.instanceId, processes: r.processes, detail: r.detail, command_ids: done.commandIds, document: options.command.document,
      });
    }
    runs.push(done);
  }
  return { targets, runs };
}

export interface LaunchRunOptions extends FleetScopeOptions {
  apply: boolean;
  setDefault: boolean;
  refresh: boolean;
  audit: AuditLog;
}

/** The inventory, the launch-path plan, and with `apply` each step in order, audited; a failed step stops the rest. */
export async function runLaunchPaths(options: LaunchRunOptions, onProgress?: (p: CollectProgress) => void): Promise<{ plan: LaunchPlan; done: { step: LaunchStep; result: string; created?: string }[] }> {
  const { inventory, aws } = await runInventory(options, onProgress);
  const plan = launchPlan(inventory, { setDefault: options.setDefault, refresh: options.refresh });
  const done: { step: LaunchStep; result: string; created?: string }[] = [];
  if (!options.apply) return { plan, done };
  const made: MadeVersions = new Map();
  for (const step of plan.steps) {
    let entry: { step: LaunchStep; result: string; created?: string };
    try {
      const r = await applyLaunchStep(aws, step, made);
      entry = { step, result: 'applied', ...(r.created === undefined ? {} : { created: r.created }) };
    } catch (error) {
      entry = { step, result: `failed: ${awsErrorCode(error)}: ${((error as Error).message ?? '').split('\n')[0]?.slice(0, 200) ?? ''}` };
    }
    options.audit.write({ time: new Date().toISOString(), action: `launch-${step.kind}`, result: entry.result, account: step.scope.account, region: step.scope.region, change: describeStep(step), ...(entry.created ? { created: entry.created } : {}) });
    done.push(entry);
    if (entry.result !== 'applied') break;
  }
  return { plan, done };
}
