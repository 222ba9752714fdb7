// contract/: the published metrics: namespace, metric names and dimensions (README "Metrics"); fleet reports and the control gate read them back.

/** The default CloudWatch namespace of the agent's metrics. */
export const DEFAULT_METRICS_NAMESPACE = 'IMDSSniff';

/** The metric names, as published. */
export const METRIC_NAMES = ['IMDSv1Calls', 'IMDSv2TokenCalls', 'IMDSv2Calls', 'IMDSv1Rejected', 'IMDSErrors', 'ForeignCloudProbes'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** The dimension names: every series has InstanceId; per-process series add Process, group series AutoScalingGroupName. */
export const DIMENSION = { instance: 'InstanceId', process: 'Process', autoScalingGroup: 'AutoScalingGroupName' } as const;

/** The Process value every process beyond the cardinality limit is counted under. */
export const OTHER_PROCESS = 'other';
