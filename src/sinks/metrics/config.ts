// sinks/metrics/: the typed settings of the per-process metrics sink and their defaults (config/ validates and loads them).

import { DEFAULT_METRICS_NAMESPACE } from '../../contract/metric-names.js';

/** Where interval counts go: CloudWatch PutMetricData, Embedded Metric Format lines in a file, or nowhere. */
export type MetricsSinkKind = 'cloudwatch' | 'emf' | 'none';

/** Settings of the metrics sink. config/load.ts builds one from the config file and flags. */
export interface MetricsConfig {
  /** `cloudwatch` (PutMetricData), `emf` (lines for the CloudWatch agent, no AWS call) or `none`. */
  sink: MetricsSinkKind;
  /** CloudWatch namespace of every metric. */
  namespace: string;
  /** Length of one counting interval; intervals are aligned to multiples of it (UTC epoch). */
  intervalSeconds: number;
  /** Distinct Process dimension values per instance for the run; later processes are counted as `other`. */
  maxProcesses: number;
  /** Also publish the instance aggregates with the AutoScalingGroupName dimension, when the group is known. */
  includeAutoScalingGroup: boolean;
  /** CloudWatch endpoint (tests, VPC endpoints); null: the SDK's standard endpoint for the region. */
  endpointUrl: string | null;
  /** AWS region of the CloudWatch endpoint. */
  region: string;
  /** File the `emf` sink appends to (created with mode 0640). */
  emfFile: string;
  /** Directory of the on-disk buffer: finished intervals wait here until CloudWatch has accepted them. */
  spoolDir: string;
  /** Buffered intervals older than this are dropped (and counted); CloudWatch itself refuses data older than 14 days. */
  bufferMaxAgeSeconds: number;
  /** The buffer never holds more than this many bytes; the oldest intervals are dropped first. */
  bufferMaxBytes: number;
  /** PutMetricData attempts per batch per flush (throttling, 5xx, network errors), with exponential backoff and full jitter. */
  maxAttempts: number;
}

/** What the metrics sink needs to know about the instance it runs on (learned from IMDS with IMDSv2). */
export interface MetricsIdentity {
  instanceId: string;
  /** From the `aws:autoscaling:groupName` instance tag, when instance metadata tags are on; else null. */
  autoScalingGroupName: string | null;
}

/** The default settings; `region` is empty and must come from the identity or the config. */
export const DEFAULT_METRICS_CONFIG: Readonly<MetricsConfig> = Object.freeze({
  sink: 'cloudwatch',
  namespace: DEFAULT_METRICS_NAMESPACE,
  intervalSeconds: 60,
  maxProcesses: 20,
  includeAutoScalingGroup: false,
  endpointUrl: null,
  region: '',
  emfFile: '/var/log/imds-sniff/metrics.emf.jsonl',
  spoolDir: '/var/lib/imds-sniff/metrics-spool',
  bufferMaxAgeSeconds: 86_400,
  bufferMaxBytes: 50 * 1024 * 1024,
  maxAttempts: 5,
});
