// fleet/aws/: reads the agents' per-process metrics and EC2's MetadataNoToken for the inventory's instances: ListMetrics, then GetMetricData at 500 queries a call.

import { GetMetricDataCommand, ListMetricsCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { awsErrorCode } from '../../aws/aws-errors.js';
import { DIMENSION } from '../../contract/metric-names.js';
import type { Inventory, Scope, ScopeError } from '../model.js';
import { DAY_MS } from '../report/build.js';
import type { InstanceMetrics } from '../report/model.js';
import type { FleetAws } from './session.js';
import { allPages, mapLimit, throttleSafe } from './throttle-safe.js';
import { SCOPES_AT_ONCE } from './collect.js';

/** GetMetricData's limit of queries per call. */
export const QUERIES_PER_CALL = 500;

export interface MetricsWindow {
  startMs: number;
  endMs: number;
  /** The agents' namespace (the daemon's `namespace`). */
  namespace: string;
}

export interface FleetMetrics {
  byInstance: Map<string, InstanceMetrics>;
  errors: ScopeError[];
  /** Series read and GetMetricData calls made (the scale figures). */
  series: number;
  getMetricDataCalls: number;
}

interface Query {
  instanceId: string;
  slot: 'agent' | 'process' | 'noToken' | 'rejected';
  process?: string;
  query: MetricDataQuery;
}

function fresh(): InstanceMetrics {
  return { agentDays: new Map(), v1ByProcess: new Map(), metadataNoToken: new Map(), metadataNoTokenRejected: new Map() };
}

/** The agents' IMDSv1Calls series in a scope: instance aggregates and per-process ones. */
async function agentSeries(aws: FleetAws, scope: Scope, namespace: string, instances: Set<string>): Promise<{ instanceId: string; process: string | null }[]> {
  const cw = aws.cloudWatch(scope);
  const out: { instanceId: string; process: string | null }[] = [];
  const pages = await allPages((NextToken) => cw.send(new ListMetricsCommand({ Namespace: namespace, MetricName: 'IMDSv1Calls', NextToken })), (p) => p.NextToken);
  for (const m of pages.flatMap((p) => p.Metrics ?? [])) {
    const dims = m.Dimensions ?? [];
    const instanceId = dims.find((d) => d.Name === DIMENSION.instance)?.Value;
    if (instanceId === undefined || !instances.has(instanceId)) continue;
    const process = dims.find((d) => d.Name === DIMENSION.process)?.Value;
    if (dims.length === 1) out.push({ instanceId, process: null });
    else if (dims.length === 2 && process !== undefined) out.push({ instanceId, process });
  }
  // moto lists a series once per datum: keep each once.
  const seen = new Set<string>();
  return out.filter((s) => {
    const key = `${s.instanceId}\u0000${s.process ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function stat(namespace: string, metricName: string, dimensions: Record<string, string>, id: string): MetricDataQuery {
  return {
    Id: id,
    ReturnData: true,
    MetricStat: { Metric: { Namespace: namespace, MetricName: metricName, Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) }, Period: 86_400, Stat: 'Sum' },
  };
}

/**
 * Daily sums over the window for every instance of the inventory: the agent's
 * aggregate (its heartbeat) and per-process IMDSv1 calls where the agent
 * reports; EC2's MetadataNoToken where it does not; MetadataNoTokenRejected
 * where IMDSv2 is already required. A scope that cannot be read is an error
 * in the result, and its instances have no data.
 */
export async function readFleetMetrics(aws: FleetAws, inventory: Inventory, window: MetricsWindow): Promise<FleetMetrics> {
  const result: FleetMetrics = { byInstance: new Map(), errors: [], series: 0, getMetricDataCalls: 0 };
  await mapLimit(inventory.scopes, SCOPES_AT_ONCE, async (scope) => {
    const mine = inventory.instances.filter((i) => i.account === scope.account && i.region === scope.region);
    if (mine.length === 0) return;
    try {
      const series = await agentSeries(aws, scope, window.namespace, new Set(mine.map((i) => i.id)));
      const withAgent = new Set(series.filter((s) => s.process === null).map((s) => s.instanceId));
      const queries: Query[] = [];
      const add = (q: Omit<Query, 'query'>, metricName: string, namespace: string, dimensions: Record<string, string>): void => {
        queries.push({ ...q, query: stat(namespace, metricName, dimensions, `q${queries.length}`) });
      };
      for (const s of series) {
        if (s.process === null) add({ instanceId: s.instanceId, slot: 'agent' }, 'IMDSv1Calls', window.namespace, { InstanceId: s.instanceId });
        else add({ instanceId: s.instanceId, slot: 'process', process: s.process }, 'IMDSv1Calls', window.namespace, { InstanceId: s.instanceId, Process: s.process });
      }
      for (const i of mine) {
        if (!i.posture.allowsV1) add({ instanceId: i.id, slot: 'rejected' }, 'MetadataNoTokenRejected', 'AWS/EC2', { InstanceId: i.id });
        else if (!withAgent.has(i.id)) add({ instanceId: i.id, slot: 'noToken' }, 'MetadataNoToken', 'AWS/EC2', { InstanceId: i.id });
      }
      result.series += queries.length;
      const cw = aws.cloudWatch(scope);
      for (let at = 0; at < queries.length; at += QUERIES_PER_CALL) {
        const batch = queries.slice(at, at + QUERIES_PER_CALL);
        const byId = new Map(batch.map((q) => [q.query.Id ?? '', q]));
        let NextToken: string | undefined;
        do {
          result.getMetricDataCalls += 1;
          const page = await throttleSafe(() => cw.send(new GetMetricDataCommand({
            MetricDataQueries: batch.map((q) => q.query), StartTime: new Date(window.startMs), EndTime: new Date(window.endMs), NextToken,
          })));
          for (const r of page.MetricDataResults ?? []) {
            const q = byId.get(r.Id ?? '');
            if (!q) continue;
            const m = result.byInstance.get(q.instanceId) ?? fresh();
            result.byInstance.set(q.instanceId, m);
            const target = q.slot === 'agent' ? m.agentDays : q.slot === 'noToken' ? m.metadataNoToken : q.slot === 'rejected' ? m.metadataNoTokenRejected
              : m.v1ByProcess.get(q.process ?? '') ?? m.v1ByProcess.set(q.process ?? '', new Map()).get(q.process ?? '')!;
            (r.Values ?? []).forEach((value, j) => {
              const t = r.Timestamps?.[j]?.getTime();
              if (t === undefined) return;
              const day = Math.floor(t / DAY_MS) * DAY_MS;
              target.set(day, (target.get(day) ?? 0) + value);
            });
          }
          NextToken = page.NextToken;
        } while (NextToken);
      }
    } catch (error) {
      result.errors.push({ ...scope, what: 'metrics', code: awsErrorCode(error), message: ((error as Error).message ?? '').split('\n')[0]?.slice(0, 300) ?? '' });
    }
  });
  return result;
}
