// control/: what the agent on another instance observed, from its metrics read back from CloudWatch (aws/cloudwatch-reader.ts), for the gate of a remote `enforce`.

import type { CloudWatchClient, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { getMetricData, listMetrics, type MetricsSource } from '../aws/cloudwatch-reader.js';
import { AwsApiError } from '../errors.js';
import { DIMENSION, type MetricName } from '../contract/metric-names.js';
import { observationFromMetrics, type MetricBuckets, type Observation } from './observation.js';

/** Bucket length of the read-back: 5 minutes keeps a 14-day window under CloudWatch's limits. */
export const READBACK_PERIOD_SECONDS = 300;

const KINDS = { v1: 'IMDSv1Calls', v2Token: 'IMDSv2TokenCalls', v2Get: 'IMDSv2Calls', foreignProbes: 'ForeignCloudProbes' } as const satisfies Record<string, MetricName>;

/** The Process dimension values the agent on `instanceId` has published: the series with exactly InstanceId and Process. */
async function processNames(client: CloudWatchClient, source: MetricsSource, instanceId: string): Promise<string[]> {
  const names = new Set<string>();
  for (const metric of await listMetrics(client, source, [{ Name: DIMENSION.instance, Value: instanceId }], instanceId)) {
    const dims = metric.Dimensions ?? [];
    const process = dims.find((d) => d.Name === DIMENSION.process)?.Value;
    if (process !== undefined && dims.length === 2 && dims.some((d) => d.Name === DIMENSION.instance && d.Value === instanceId)) names.add(process);
  }
  return [...names].sort();
}

/**
 * What the agent on `instanceId` reported between `startMs` and `nowMs`, in
 * 5-minute buckets: the instance aggregate as a heartbeat, and per process
 * the IMDSv1 / token / IMDSv2 calls and the foreign-cloud probes.
 */
export async function readObservedMetrics(client: CloudWatchClient, source: MetricsSource, instanceId: string, startMs: number, nowMs: number): Promise<Observation> {
  const periodMs = READBACK_PERIOD_SECONDS * 1000;
  const names = await processNames(client, source, instanceId);
  const queries: MetricDataQuery[] = [];
  const meaning = new Map<string, { process: string | null; kind: keyof typeof KINDS }>();
  const metric = (id: string, metricName: string, process: string | null, kind: keyof typeof KINDS): void => {
    const dimensions = [{ Name: DIMENSION.instance, Value: instanceId }, ...(process === null ? [] : [{ Name: DIMENSION.process, Value: process }])];
    queries.push({ Id: id, ReturnData: true, MetricStat: { Metric: { Namespace: source.namespace, MetricName: metricName, Dimensions: dimensions }, Period: READBACK_PERIOD_SECONDS, Stat: 'Sum' } });
    meaning.set(id, { process, kind });
  };
  metric('heartbeat', KINDS.v1, null, 'v1');
  names.forEach((name, i) => {
    for (const kind of Object.keys(KINDS) as (keyof typeof KINDS)[]) metric(`p${i}_${kind}`, KINDS[kind], name, kind);
  });
  const buckets: MetricBuckets = { location: `CloudWatch ${source.namespace} (${source.region})`, periodMs, nowMs, heartbeat: [], processes: new Map() };
  for (const name of names) buckets.processes.set(name, { v1: new Map(), v2Token: new Map(), v2Get: new Map(), foreignProbes: new Map() });
  // Bucket starts are aligned to the period, so the first bucket may begin before startMs.
  const alignedStart = new Date(Math.floor(startMs / periodMs) * periodMs);
  for await (const result of getMetricData(client, source, queries, alignedStart, new Date(nowMs), instanceId)) {
    const what = meaning.get(result.Id ?? '');
    if (what === undefined) continue;
    // A query CloudWatch could not answer must not read as "no IMDSv1 calls".
    if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') {
      throw new AwsApiError('ERR_AWS_GET_METRIC_DATA', `GetMetricData for ${instanceId} in ${source.region}: query ${result.Id} answered ${result.StatusCode}`, {
        hint: 'the gate cannot decide without every series; try again, or check cloudwatch:GetMetricData',
      });
    }
    const times = result.Timestamps ?? [];
    (result.Values ?? []).forEach((value, j) => {
      const t = times[j]?.getTime();
      if (t === undefined) return;
      if (what.process === null) buckets.heartbeat.push(t);
      else buckets.processes.get(what.process)?.[what.kind].set(t, (buckets.processes.get(what.process)?.[what.kind].get(t) ?? 0) + value);
    });
  }
  return observationFromMetrics(buckets);
}
