// fleet/report/: pure: inventory + CloudWatch metrics in, a verdict per instance, the launch paths, the process fix list and the daily totals out.

import type { InstanceItem, Inventory } from '../model.js';
import { exceptionOf } from './exception-tag.js';
import { launchPathFindings } from './launch-paths.js';
import type { DailySeries, FleetReport, InstanceMetrics, InstanceVerdict, ProcessFinding, Verdict, Wave } from './model.js';
import { fixFor, programOf } from './process-fix.js';
import { waveOf } from './wave.js';

export const DAY_MS = 86_400_000;
/** The blocker standing for IMDSv1 calls the instance aggregate counted but no process series names. */
export const UNNAMED = '(process not named)';

export interface ReportOptions {
  windowDays: number;
  nowMs: number;
  /** Waves set on the command line, by instance id. */
  waveOverrides?: Map<string, Wave>;
}

const EMPTY: InstanceMetrics = { agentDays: new Map(), v1ByProcess: new Map(), metadataNoToken: new Map(), metadataNoTokenRejected: new Map() };

function total(series: DailySeries): number {
  let sum = 0;
  for (const v of series.values()) sum += v;
  return sum;
}

/** The first day of the window (UTC midnight). */
export function windowStart(options: ReportOptions): number {
  return Math.floor(options.nowMs / DAY_MS) * DAY_MS - (options.windowDays - 1) * DAY_MS;
}

/**
 * One instance's verdict, in this order: enforced (IMDSv1 off); an exception
 * still valid; with the agent: blocked by the processes it saw, ready once it
 * reported every day of the window without IMDSv1, else not enough data;
 * without it: IMDSv1 seen by EC2 (MetadataNoToken), or no data.
 */
export function judge(instance: InstanceItem, m: InstanceMetrics, options: ReportOptions): Omit<InstanceVerdict, 'wave' | 'waveReason'> {
  const exception = exceptionOf(instance.tags, options.nowMs);
  const blockers = [...m.v1ByProcess].map(([process, s]) => ({ process, calls: total(s) })).filter((b) => b.calls > 0);
  // The instance aggregate counts every IMDSv1 call; a per-process series may be missing (ListMetrics
  // lists only series with data in the last two weeks): calls it cannot name still block.
  const unnamed = total(m.agentDays) - blockers.reduce((s, b) => s + b.calls, 0);
  if (unnamed > 0) blockers.push({ process: UNNAMED, calls: unnamed });
  blockers.sort((a, b) => b.calls - a.calls || a.process.localeCompare(b.process));
  const agentDaysReported = m.agentDays.size;
  const agent = agentDaysReported > 0;
  const v1Calls = agent ? blockers.reduce((s, b) => s + b.calls, 0) : total(m.metadataNoToken);
  const base = { instance, blockers, v1Calls, agent, agentDaysReported, exception };
  const verdict = (v: Verdict, detail: string): Omit<InstanceVerdict, 'wave' | 'waveReason'> => ({ ...base, verdict: v, detail });

  if (!instance.posture.allowsV1) {
    const rejected = total(m.metadataNoTokenRejected);
    const how = instance.metadata.endpoint === 'disabled' ? 'IMDS disabled' : 'HttpTokens required';
    return verdict('enforced', rejected > 0 ? `${how}; EC2 refused ${rejected} IMDSv1 calls in the window (something still tries)` : how);
  }
  if (exception !== null && !exception.expired) return verdict('exception', `exception: ${exception.reason}${exception.until ? ` (until ${exception.until})` : ''}`);
  const expiredNote = exception?.expired ? ` (exception expired ${exception.until ?? ''})` : '';
  if (agent) {
    if (blockers.length > 0) return verdict('blocked', `IMDSv1 from ${blockers.map((b) => `${b.process} (${b.calls})`).join(', ')}${expiredNote}`);
    if (agentDaysReported >= options.windowDays) return verdict('ready', `agent reported ${agentDaysReported} of ${options.windowDays} days, no IMDSv1${expiredNote}`);
    return verdict('no-data', `agent reported ${agentDaysReported} of ${options.windowDays} days so far, no IMDSv1 yet${expiredNote}`);
  }
  if (v1Calls > 0) return verdict('v1-no-agent', `EC2 counted ${v1Calls} IMDSv1 calls (MetadataNoToken); install the agent to name the process${expiredNote}`);
  const ec2Days = m.metadataNoToken.size;
  return verdict('no-data', `${ec2Days > 0 ? `no agent; EC2 counted no IMDSv1 call on ${ec2Days} days` : 'no agent and no EC2 metadata metrics'}${expiredNote}`);
}

/** Display order: what needs work first. */
const VERDICTS: Verdict[] = ['blocked', 'v1-no-agent', 'no-data', 'exception', 'ready', 'enforced'];
const WAVES: Wave[] = [0, 1, 2];

/** The whole report. Instances missing from `metrics` have no data. */
export function buildReport(inventory: Inventory, metrics: Map<string, InstanceMetrics>, options: ReportOptions): FleetReport {
  const start = windowStart(options);
  const days = Array.from({ length: options.windowDays }, (_, i) => start + i * DAY_MS);
  const dayIndex = (t: number): number => Math.floor((t - start) / DAY_MS);

  const instances: InstanceVerdict[] = inventory.instances.map((instance) => {
    const judged = judge(instance, metrics.get(instance.id) ?? EMPTY, options);
    const { wave, reason } = waveOf(instance, options.waveOverrides?.get(instance.id));
    return { ...judged, wave, waveReason: reason };
  });

  const byVerdict = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  const byWave = Object.fromEntries(WAVES.map((w) => [`${w}`, { instances: 0, ready: 0, blocked: 0 }])) as FleetReport['totals']['byWave'];
  const dailyByProcess: Record<string, number[]> = {};
  const dailyByWave = Object.fromEntries(WAVES.map((w) => [`${w}`, days.map(() => 0)])) as Record<`${Wave}`, number[]>;
  const processAgg = new Map<string, { instances: Set<string>; calls: number }>();

  for (const v of instances) {
    byVerdict[v.verdict] += 1;
    const w = byWave[`${v.wave}`];
    w.instances += 1;
    if (v.verdict === 'ready') w.ready += 1;
    if (v.verdict === 'blocked' || v.verdict === 'v1-no-agent') w.blocked += 1;
    const m = metrics.get(v.instance.id);
    if (!m) continue;
    for (const [process, series] of m.v1ByProcess) {
      const row = (dailyByProcess[process] ??= days.map(() => 0));
      for (const [t, value] of series) {
        const i = dayIndex(t);
        if (i < 0 || i >= days.length) continue;
        row[i] = (row[i] ?? 0) + value;
        dailyByWave[`${v.wave}`][i] = (dailyByWave[`${v.wave}`][i] ?? 0) + value;
      }
      const calls = total(series);
      if (calls > 0) {
        const agg = processAgg.get(process) ?? { instances: new Set<string>(), calls: 0 };
        agg.instances.add(v.instance.id);
        agg.calls += calls;
        processAgg.set(process, agg);
      }
    }
    if (!v.agent) {
      for (const [t, value] of m.metadataNoToken) {
        const i = dayIndex(t);
        if (i >= 0 && i < days.length) dailyByWave[`${v.wave}`][i] = (dailyByWave[`${v.wave}`][i] ?? 0) + value;
      }
    }
  }

  // One row per program: the container suffix only splits the same program across containers.
  const byProgram = new Map<string, { instances: Set<string>; calls: number; names: Set<string> }>();
  for (const [process, agg] of processAgg) {
    const program = programOf(process);
    const row = byProgram.get(program) ?? { instances: new Set<string>(), calls: 0, names: new Set<string>() };
    agg.instances.forEach((i) => row.instances.add(i));
    row.calls += agg.calls;
    row.names.add(process);
    byProgram.set(program, row);
  }
  const processes: ProcessFinding[] = [...byProgram].map(([program, row]) => ({
    process: [...row.names].sort().join(', '),
    program,
    instances: row.instances.size,
    calls: row.calls,
    fix: fixFor(program),
  })).sort((a, b) => b.instances - a.instances || b.calls - a.calls || a.program.localeCompare(b.program));

  return {
    generatedAt: new Date(options.nowMs).toISOString(),
    windowDays: options.windowDays,
    instances: instances.sort((a, b) => VERDICTS.indexOf(a.verdict) - VERDICTS.indexOf(b.verdict) || a.wave - b.wave || a.instance.id.localeCompare(b.instance.id)),
    launchPaths: launchPathFindings(inventory),
    processes,
    totals: { byVerdict, byWave },
    daily: { days, byProcess: dailyByProcess, byWave: dailyByWave },
    expiredExceptions: instances.filter((v) => v.exception?.expired).map((v) => v.instance.id).sort(),
    collection: null,
  };
}
