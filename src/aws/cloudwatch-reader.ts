// aws/: the raw CloudWatch reads of the control commands (ListMetrics, GetMetricData), every page; control/observed-metrics.ts decides what they mean.

import { GetMetricDataCommand, ListMetricsCommand, type CloudWatchClient, type DimensionFilter, type Metric, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { createCloudWatchClient } from './cloudwatch-client.js';
import { awsCall, type AwsCallContext } from './aws-errors.js';
import type { AwsCredentialIdentityProvider } from './control-credentials.js';
import { EC2_MAX_ATTEMPTS } from './ec2-client.js';

/** IAM actions the remote gate needs. */
export const METRICS_IAM_ACTIONS = ['cloudwatch:ListMetrics', 'cloudwatch:GetMetricData'] as const;
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

/** Every metric of the source's namespace with these dimensions (ListMetrics covers the last two weeks); `resource` names the instance in errors. */
export async function listMetrics(client: CloudWatchClient, source: MetricsSource, dimensions: DimensionFilter[], resource: string): Promise<Metric[]> {
  const metrics: Metric[] = [];
  const context: AwsCallContext = { action: 'ListMetrics', iamActions: METRICS_IAM_ACTIONS, resource, region: source.region };
  let token: string | undefined;
  do {
    const page = await awsCall(context, () => client.send(new ListMetricsCommand({ Namespace: source.namespace, Dimensions: dimensions, NextToken: token })));
    metrics.push(...(page.Metrics ?? []));
    token = page.NextToken;
  } while (token);
  return metrics;
}

/** The answers to every query between `start` and `end`, page by page, in calls of at most 500 queries; `resource` names the instance in errors. */
export async function* getMetricData(client: CloudWatchClient, source: MetricsSource, queries: MetricDataQuery[], start: Date, end: Date, resource: string): AsyncGenerator<MetricDataResult> {
  const context: AwsCallContext = { action: 'GetMetricData', iamActions: METRICS_IAM_ACTIONS, resource, region: source.region };
  for (let i = 0; i < queries.length; i += QUERIES_PER_CALL) {
    let token: string | undefined;
    do {
      const page = await awsCall(context, () =>
        client.send(new GetMetricDataCommand({ MetricDataQueries: queries.slice(i, i + QUERIES_PER_CALL), StartTime: start, EndTime: end, NextToken: token })),
      );
      yield* page.MetricDataResults ?? [];
      token = page.NextToken;
    } while (token);
  }
}
