// sinks/: the emf-metrics sink: per-process counts per interval as Embedded Metric Format lines, for the CloudWatch agent to ship.

import { emfLines } from './metrics/emf-format.js';
import { EmfWriter } from './metrics/emf-writer.js';
import type { MetricsConfig, MetricsIdentity } from './metrics/config.js';
import type { MetricSeries } from './metrics/datums.js';
import type { ClosedInterval } from './metrics/interval-counts.js';
import { MetricsSink, type MetricsSinkDeps, type MetricsSinkStats } from './metrics/metrics-sink.js';

/** Appends each closed interval's lines to `config.emfFile`; a failed write loses that interval, logged once until writes work again. */
export class EmfMetricsSink extends MetricsSink {
  private readonly emf: EmfWriter;

  constructor(config: MetricsConfig, identity: MetricsIdentity, deps: MetricsSinkDeps) {
    super(config, identity, deps);
    this.emf = new EmfWriter(config.emfFile);
    this.resumeOpenInterval();
  }

  protected deliverInterval(interval: ClosedInterval, series: MetricSeries[]): void {
    const written = this.fsStep(() => this.emf.append(emfLines(series, this.config.namespace, interval.startMs)), 'cannot write metrics EMF lines; their intervals are lost', { file: this.config.emfFile });
    if (!written) this.counters.emfFailedIntervals += 1;
  }

  protected ownStats(): Pick<MetricsSinkStats, 'bufferedBatches' | 'bufferedBytes' | 'emfLines' | 'publisher'> {
    return { bufferedBatches: 0, bufferedBytes: 0, emfLines: this.emf.stats.lines, publisher: null };
  }
}
