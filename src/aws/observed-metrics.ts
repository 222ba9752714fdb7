// aws/: reads an instance's imds-sniff metrics back from CloudWatch (ListMetrics, GetMetricData) for the gate of a remote `enforce`.

import { GetMetricDataCommand, ListMetricsCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { observationFromMetrics, type MetricBuckets, type Observation } from '../control/observation.js';
import { AwsApiError } from '../errors.js';
import { createCloudWatchClient } from '../sinks/metrics/cloudwatch-publisher.js';
import type { MetricName } from '../sinks/metrics/interval-counts.js';
import { awsCall } from './aws-errors.js';
import type { AwsCredentialIdentityProvider } from './control-credentials.js';
import { EC2_MAX_ATTEMPTS } from './ec2-client.js';

/** IAM actions the remote gate needs. */
export const METRICS_IAM_ACTIONS = ['cloudwatch:ListMetrics', 'cloudwatch:GetMetricData'] as const;
/** Bucket length of the read-back: 5 minutes keeps a 14-day window under CloudWatch's limits. */
export const READBACK_PERIOD_SECONDS = 300;

const KINDS = { v1: 'IMDSv1Calls', v2Token: 'IMDSv2TokenCalls', v2Get: 'IMDSv2Calls', foreignProbes: 'ForeignCloudProbes' } as const satisfies Record<string, MetricName>;
/** GetMetricData takes at most 500 queries per call. */
const QUERIES_PER_CALL = 500;

export interface MetricsSource {
  region: string;
  endpointUrl: string | null;
  namespace: string;
}

/** A CloudWatch client for reading, retrying throttled calls like the EC2 client. */
export function createCloudWatchReader(source: MetricsSource, credentials: AwsCredentialIdentityProvider): CloudWatchClient {
  return createCloudWatchClient(source, { maxAttempts: EC2_MAX_ATTEMPTS, credentials });
}

/** The Process dimension values the agent on `instanceId` has published (ListMetrics covers the last two weeks). */
async function processNames(client: CloudWatchClient, source: MetricsSource, instanceId: string): Promise<string[]> {
  const names = new Set<string>();
  const context = { action: 'ListMetrics', iamActions: METRICS_IAM_ACTIONS, resource: instanceId, region: source.region };
  let token: string | undefined;
  do {
    const page = await awsCall(context, () =>
      client.send(new ListMetricsCommand({ Namespace: source.namespace, Dimensions: [{ Name: 'InstanceId', Value: instanceId }], NextToken: token })),
    );
    for (const metric of page.Metrics ?? []) {
      const dims = metric.Dimensions ?? [];
      const process = dims.find((d) => d.Name === 'Process')?.Value;
      if (process !== undefined && dims.length === 2 && dims.some((d) => d.Name === 'InstanceId' && d.Value === instanceId)) names.add(process);
    }
    token = page.NextToken;
  } while (token);
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
    const dimensions = [{ Name: 'InstanceId', Value: instanceId }, ...(process === null ? [] : [{ Name: 'Process', Value: process }])];
    queries.push({ Id: id, ReturnData: true, MetricStat: { Metric: { Namespace: source.namespace, MetricName: metricName, Dimensions: dimensions }, Period: READBACK_PERIOD_SECONDS, Stat: 'Sum' } });
    meaning.set(id, { process, kind });
  };
  metric('heartbeat', KINDS.v1, null, 'v1');
  names.forEach((name, i) => {
    for (const kind of Object.keys(KINDS) as (keyof typeof KINDS)[]) metric(`p${i}_${kind}`, KINDS[kind], name, kind);
  });
  const buckets: MetricBuckets = { location: `CloudWatch ${source.namespace} (${source.region})`, periodMs, nowMs, heartbeat: [], processes: new Map() };
  for (const name of names) buckets.processes.set(name, { v1: new Map(), v2Token: new Map(), v2Get: new Map(), foreignProbes: new Map() });
  const context = { action: 'GetMetricData', iamActions: METRICS_IAM_ACTIONS, resource: instanceId, region: source.region };
  // Bucket starts are aligned to the period, so the first bucket may begin before startMs.
  const alignedStart = new Date(Math.floor(startMs / periodMs) * periodMs);
  for (let i = 0; i < queries.length; i += QUERIES_PER_CALL) {
    let token: string | undefined;
    do {
      const page = await awsCall(context, () =>
        client.send(new GetMetricDataCommand({ MetricDataQueries: queries.slice(i, i + QUERIES_PER_CALL), StartTime: alignedStart, EndTime: new Date(nowMs), NextToken: token })),
      );
      for (const result of page.MetricDataResults ?? []) {
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
      token = page.NextToken;
    } while (token);
  }
  return observationFromMetrics(buckets);
}
