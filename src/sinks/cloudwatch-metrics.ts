// sinks/: the cloudwatch-metrics sink: per-process counts per interval, through an on-disk spool, to PutMetricData.

import { splitIntoBatches } from './metrics/batches.js';
import { createCloudWatchClient } from '../aws/cloudwatch-client.js';
import { CloudWatchPublisher } from './metrics/cloudwatch-publisher.js';
import type { MetricsConfig, MetricsIdentity } from './metrics/config.js';
import { seriesDatums, type MetricSeries } from './metrics/datums.js';
import type { ClosedInterval } from './metrics/interval-counts.js';
import { MetricsSink, type MetricsSinkDeps, type MetricsSinkStats } from './metrics/metrics-sink.js';
import { FlushBackoff } from './metrics/retry-policy.js';
import { Spool, type SpoolDrop } from './metrics/spool.js';

/**
 * Closed intervals go to the spool; a flush runs in the background, one at a
 * time, and after one that left batches behind the next waits (FlushBackoff).
 * `close` sends for at most the shutdown deadline and leaves the rest in the
 * spool for the next run.
 */
export class CloudWatchMetricsSink extends MetricsSink {
  private readonly spool: Spool;
  private readonly publisher: CloudWatchPublisher;
  private readonly backoff: FlushBackoff;
  private flushing: Promise<void> | null = null;

  constructor(config: MetricsConfig, identity: MetricsIdentity, deps: MetricsSinkDeps) {
    super(config, identity, deps);
    this.spool = new Spool(config.spoolDir, { maxAgeSeconds: config.bufferMaxAgeSeconds, maxBytes: config.bufferMaxBytes });
    const spool = this.spool;
    this.fsStep(() => {
      const found = spool.open();
      if (found.recovered > 0) deps.log.info({ batches: found.recovered, dir: config.spoolDir }, 'metrics buffer holds batches from an earlier run; sending them');
    }, 'cannot read the metrics buffer directory', { dir: config.spoolDir });
    this.publisher = new CloudWatchPublisher(this.spool, {
      client: deps.client ?? createCloudWatchClient(config),
      maxAttempts: config.maxAttempts,
      log: deps.log,
      ...(deps.backoffBaseMs === undefined ? {} : { backoffBaseMs: deps.backoffBaseMs }),
      ...(deps.backoffCapMs === undefined ? {} : { backoffCapMs: deps.backoffCapMs }),
    });
    this.backoff = new FlushBackoff(config.intervalSeconds * 1000);
    this.resumeOpenInterval();
  }

  protected override inFlight(): Promise<void> {
    return this.flushing ?? Promise.resolve();
  }

  protected override holdsInterval(id: string): boolean {
    return this.spool.hasInterval(id);
  }

  protected deliverInterval(interval: ClosedInterval, series: MetricSeries[]): void {
    const { batches, rejected } = splitIntoBatches(seriesDatums(series, interval.startMs), this.config.namespace);
    if (rejected.length > 0) {
      this.counters.rejectedDatums += rejected.length;
      this.deps.log.error({ datums: rejected.length }, 'metric datums over the PutMetricData limits were dropped');
    }
    batches.forEach((batchDatums, index) => {
      const { error } = this.spool.write({ version: 1, intervalId: interval.id, intervalStartMs: interval.startMs, namespace: this.config.namespace, datums: batchDatums }, index);
      this.fsStep(() => {
        if (error !== null) throw error;
      }, 'cannot write the metrics buffer; holding batches in memory (lost if the agent dies)', { dir: this.spool.dir });
    });
  }

  protected override afterDelivery(nowMs: number): void {
    this.logDrops(this.spool.prune(nowMs));
  }

  private logDrops(drops: SpoolDrop[]): void {
    for (const drop of drops) {
      this.counters.bufferDroppedIntervals += drop.intervals;
      this.counters.bufferDroppedBatches += drop.batches;
      const limit = drop.reason === 'age' ? { bufferMaxAgeSeconds: this.config.bufferMaxAgeSeconds } : { bufferMaxBytes: this.config.bufferMaxBytes };
      this.deps.log.warn({ ...drop, oldest: new Date(drop.oldestStartMs).toISOString(), ...limit }, 'metrics buffer full: dropped the oldest intervals');
    }
  }

  /**
   * Sends what the spool holds, one flush at a time. `final` (at close): after
   * the running flush, one last try bounded by the shutdown deadline, whatever the backoff.
   */
  protected override publish(nowMs: number, final: boolean): Promise<void> {
    if (final) return this.finalFlush(nowMs);
    if (this.flushing !== null) return this.flushing;
    if (!this.backoff.due(nowMs)) return Promise.resolve();
    this.flushing = this.publisher.flush(this.shutdown.signal).then(
      (allSent) => this.backoff.after(allSent, this.now()),
      (e: unknown) => this.deps.log.error({ err: { message: (e as Error).message } }, 'metrics flush failed'),
    ).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async finalFlush(nowMs: number): Promise<void> {
    await (this.flushing ?? Promise.resolve());
    this.backoff.reset();
    if (!this.shutdown.signal.aborted) await this.publish(nowMs, false);
    const left = this.spool.size.batches;
    if (left > 0) this.deps.log.warn({ batches: left, dir: this.config.spoolDir }, 'metrics not yet delivered stay in the buffer for the next start');
  }

  protected ownStats(): Pick<MetricsSinkStats, 'bufferedBatches' | 'bufferedBytes' | 'emfLines' | 'publisher'> {
    const size = this.spool.size;
    return { bufferedBatches: size.batches, bufferedBytes: size.bytes, emfLines: 0, publisher: { ...this.publisher.stats } };
  }
}
