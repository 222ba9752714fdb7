// sinks/metrics/: pure: a closed interval → metric series (per process, per instance, per Auto Scaling group) and CloudWatch datums.

import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { MetricsIdentity } from './config.js';
import { zeroCounts, type ClosedInterval, type ProcessCounts } from './interval-counts.js';
import { DIMENSION, METRIC_NAMES, type MetricName } from '../../contract/metric-names.js';
import { sanitizeDimensionValue } from '../../contract/process-name.js';

/** What decides the dimensions of an interval's series. */
export interface SeriesOptions {
  identity: MetricsIdentity;
  /** Also the instance aggregates under AutoScalingGroupName (when the group is known). */
  includeAutoScalingGroup: boolean;
}

/**
 * Values that share dimensions. Each dimension set is a metric of its own in
 * CloudWatch (one datum per set); EMF names all sets in one directive.
 */
export interface MetricSeries {
  /** Dimension name → value, for every name any set uses. */
  dimensions: Record<string, string>;
  dimensionSets: string[][];
  values: Partial<Record<MetricName, number>>;
}

function nonZero(counts: Readonly<ProcessCounts>): Partial<Record<MetricName, number>> {
  return Object.fromEntries(METRIC_NAMES.filter((m) => counts[m] > 0).map((m) => [m, counts[m]]));
}

/** The aggregate's metrics sent even when zero: the heartbeat the remote gate reads, and what dashboards expect. */
const ALWAYS_REPORTED: readonly MetricName[] = ['IMDSv1Calls', 'IMDSv2TokenCalls', 'IMDSv2Calls', 'IMDSv1Rejected', 'IMDSErrors'];

function alwaysReported(counts: Readonly<ProcessCounts>): Partial<Record<MetricName, number>> {
  return Object.fromEntries(ALWAYS_REPORTED.map((m) => [m, counts[m]]));
}

/**
 * The series of one interval. Per process (InstanceId + Process) only the
 * metrics that are not zero, so a process that stops calling stops producing
 * series. The instance aggregate (InstanceId, and AutoScalingGroupName when
 * asked and known) always carries the five IMDS call metrics, so a silent
 * instance reports zeros; ForeignCloudProbes only when not zero (most hosts
 * never see one, and each series CloudWatch keeps is billed); a late interval
 * only adds what is not zero to its start.
 */
export function intervalSeries(interval: ClosedInterval, options: SeriesOptions): MetricSeries[] {
  const instanceId = sanitizeDimensionValue(options.identity.instanceId);
  const series: MetricSeries[] = [];
  const total = zeroCounts();
  for (const [process, counts] of [...interval.processes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const m of METRIC_NAMES) total[m] += counts[m];
    const values = nonZero(counts);
    if (Object.keys(values).length === 0) continue;
    series.push({ dimensions: { [DIMENSION.instance]: instanceId, [DIMENSION.process]: process }, dimensionSets: [[DIMENSION.instance, DIMENSION.process]], values });
  }
  const values = interval.late ? nonZero(total) : { ...alwaysReported(total), ...nonZero(total) };
  if (Object.keys(values).length === 0) return series;
  const aggregate: MetricSeries = { dimensions: { [DIMENSION.instance]: instanceId }, dimensionSets: [[DIMENSION.instance]], values };
  const group = options.identity.autoScalingGroupName;
  if (options.includeAutoScalingGroup && group !== null && group.trim() !== '') {
    aggregate.dimensions[DIMENSION.autoScalingGroup] = sanitizeDimensionValue(group);
    aggregate.dimensionSets.push([DIMENSION.autoScalingGroup]);
  }
  series.push(aggregate);
  return series;
}

/** One datum per metric and dimension set, unit Count, timestamped at the interval start. */
export function seriesDatums(series: readonly MetricSeries[], timestampMs: number): MetricDatum[] {
  const datums: MetricDatum[] = [];
  for (const s of series) {
    for (const set of s.dimensionSets) {
      const dimensions = set.map((name) => ({ Name: name, Value: s.dimensions[name] ?? '' }));
      for (const metric of METRIC_NAMES) {
        const value = s.values[metric];
        if (value === undefined) continue;
        datums.push({ MetricName: metric, Dimensions: dimensions, Value: value, Unit: 'Count', Timestamp: new Date(timestampMs) });
      }
    }
  }
  return datums;
}

/** The CloudWatch datums of a closed interval. */
export function intervalDatums(interval: ClosedInterval, options: SeriesOptions): MetricDatum[] {
  return seriesDatums(intervalSeries(interval, options), interval.startMs);
}
