// sinks/: picks the metrics sink the configuration names: cloudwatch-metrics, emf-metrics, or none (counting only).

import { CloudWatchMetricsSink } from './cloudwatch-metrics.js';
import { EmfMetricsSink } from './emf-metrics.js';
import type { MetricsConfig, MetricsIdentity } from './metrics/config.js';
import { CountingMetricsSink, type MetricsSink, type MetricsSinkDeps } from './metrics/metrics-sink.js';

export function createMetricsSink(config: MetricsConfig, identity: MetricsIdentity, deps: MetricsSinkDeps): MetricsSink {
  if (config.sink === 'cloudwatch') return new CloudWatchMetricsSink(config, identity, deps);
  if (config.sink === 'emf') return new EmfMetricsSink(config, identity, deps);
  return new CountingMetricsSink(config, identity, deps);
}
