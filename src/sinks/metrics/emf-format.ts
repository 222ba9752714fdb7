// sinks/metrics/: pure: metric series → CloudWatch Embedded Metric Format lines (for the CloudWatch agent, no AWS call).

import { METRIC_NAMES } from '../../contract/metric-names.js';
import type { MetricSeries } from './datums.js';

/** The `_aws` metadata of one EMF line (CloudWatch Embedded Metric Format specification). */
interface EmfMetadata {
  Timestamp: number;
  CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: 'Count' }[] }[];
}

/**
 * One JSON object per series: the dimension values and metric values as
 * top-level fields, and the directive that tells CloudWatch which are which.
 * Timestamp is the interval start in epoch milliseconds.
 */
export function emfLines(series: readonly MetricSeries[], namespace: string, timestampMs: number): string[] {
  return series.map((s) => {
    const metrics = METRIC_NAMES.filter((m) => s.values[m] !== undefined);
    const aws: EmfMetadata = {
      Timestamp: timestampMs,
      CloudWatchMetrics: [{ Namespace: namespace, Dimensions: s.dimensionSets, Metrics: metrics.map((Name) => ({ Name, Unit: 'Count' })) }],
    };
    return JSON.stringify({ _aws: aws, ...s.dimensions, ...Object.fromEntries(metrics.map((m) => [m, s.values[m]])) });
  });
}
