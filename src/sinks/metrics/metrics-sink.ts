// sinks/metrics/: the metrics sink: counts imds_request events per interval and delivers them (CloudWatch via the spool, EMF, or none).

import { randomBytes } from 'node:crypto';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ImdsRequestEvent } from '../../pipeline/events.js';
import type { OutputEvent, Sink } from '../sink.js';
import { splitIntoBatches } from './batches.js';
import { ClosedLedger } from './closed-ledger.js';
import { CloudWatchPublisher, createCloudWatchClient, type MetricsLog, type PublisherStats } from './cloudwatch-publisher.js';
import type { MetricsConfig, MetricsIdentity } from './config.js';
import { intervalSeries, seriesDatums, type SeriesOptions } from './datums.js';
import { emfLines } from './emf-format.js';
import { EmfWriter } from './emf-writer.js';
import { IntervalCounts, type ClosedInterval, type ImportResult, type OpenIntervalsState } from './interval-counts.js';
import { Spool, type SpoolDrop } from './spool.js';

export interface MetricsSinkDeps {
  log: MetricsLog;
  /** Wall clock (tests inject one); intervals follow the events' capture times. */
  now?: () => number;
  /**
   * A CloudWatch client; by default `createCloudWatchClient(config)` (standard SDK chain, config.region and
   * config.endpointUrl). Give one with `maxAttempts: 1`: the sink retries by itself, within its deadlines.
   */
  client?: CloudWatchClient;
  /** What `exportOpenInterval()` returned before a restart (from the state file). */
  resumeOpenInterval?: unknown;
  /** An interval stays open this long after its end for requests still being attributed. */
  lateGraceMs?: number;
  /** Longest shutdown flush. */
  closeFlushMs?: number;
  /** Backoff base and cap of PutMetricData retries. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Called with every closed interval (for a per-interval summary log line). */
  onInterval?: (interval: ClosedInterval) => void;
}

/** Counters of the metrics sink, for status lines, tests and the benchmark. */
export interface MetricsSinkStats {
  eventsCounted: number;
  ownIgnored: number;
  intervalsClosed: number;
  foldedProcesses: number;
  /** Intervals and batches dropped from the full or too old buffer. */
  bufferDroppedIntervals: number;
  bufferDroppedBatches: number;
  bufferedBatches: number;
  bufferedBytes: number;
  /** Datums no PutMetricData call could carry. */
  rejectedDatums: number;
  emfLines: number;
  emfFailedIntervals: number;
  publisher: PublisherStats | null;
  resumed: ImportResult | null;
}

/** Milliseconds of the interval start encoded at the front of an interval id. */
function idStartMs(id: string): number {
  return Number(id.split('-', 1)[0]);
}

/**
 * The `metrics` sink. `write` only counts; `tick` (the daemon calls it, or
 * `start()` does every second) closes finished intervals into the spool and
 * publishes in the background, one flush at a time; `close` publishes the
 * partial interval with a bounded wait and leaves the rest in the spool for
 * the next run.
 */
export class MetricsSink implements Sink {
  private readonly counts: IntervalCounts;
  private readonly now: () => number;
  private readonly seriesOptions: SeriesOptions;
  private readonly spool: Spool | null = null;
  private readonly ledger: ClosedLedger | null = null;
  private readonly publisher: CloudWatchPublisher | null = null;
  private readonly emf: EmfWriter | null = null;
  private flushing: Promise<void> | null = null;
  /** After a flush that left batches behind, the next one waits until then (backoff across ticks). */
  private retryAtMs = 0;
  private retryDelayMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly counters = { intervalsClosed: 0, foldedProcesses: 0, bufferDroppedIntervals: 0, bufferDroppedBatches: 0, rejectedDatums: 0, emfFailedIntervals: 0 };
  private readonly resumed: ImportResult | null = null;
  /** Aborts every PutMetricData call and backoff at the shutdown deadline. */
  private readonly shutdown = new AbortController();
  /** File system failures already logged (each is logged once until it recovers). */
  private readonly failing = new Set<string>();

  constructor(private readonly config: MetricsConfig, identity: MetricsIdentity, private readonly deps: MetricsSinkDeps) {
    this.now = deps.now ?? Date.now;
    this.seriesOptions = { identity, includeAutoScalingGroup: config.includeAutoScalingGroup };
    this.counts = new IntervalCounts({ intervalSeconds: config.intervalSeconds, maxProcesses: config.maxProcesses, runId: randomBytes(4).toString('hex'), startMs: this.now() });
    if (config.sink !== 'none') {
      this.ledger = new ClosedLedger(config.spoolDir, config.bufferMaxAgeSeconds * 1000);
      this.fsStep(() => this.ledger?.open(), 'cannot create the metrics buffer directory; counts are held in memory until it can be written', { dir: config.spoolDir });
    }
    if (config.sink === 'cloudwatch') {
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
    }
    if (config.sink === 'emf') this.emf = new EmfWriter(config.emfFile);
    if (deps.resumeOpenInterval !== undefined && deps.resumeOpenInterval !== null) this.resumed = this.resume(deps.resumeOpenInterval);
  }

  /** Runs a file system step; a failure is logged once per kind (until a step of that kind succeeds again), never thrown. */
  private fsStep(step: () => void, message: string, context: object): boolean {
    try {
      step();
      this.failing.delete(message);
      return true;
    } catch (e) {
      if (!this.failing.has(message)) {
        this.failing.add(message);
        this.deps.log.error({ ...context, err: { code: (e as NodeJS.ErrnoException).code, message: (e as Error).message } }, message);
      }
      return false;
    }
  }

  private resume(state: unknown): ImportResult {
    const oldestMs = this.now() - this.config.bufferMaxAgeSeconds * 1000;
    const result = this.counts.importOpen(state, (id) =>
      idStartMs(id) < oldestMs || (this.ledger?.has(id) ?? false) || (this.spool?.hasInterval(id) ?? false));
    if (result.invalid !== null) this.deps.log.warn({ reason: result.invalid }, 'ignored the saved open metrics interval');
    else this.deps.log.info({ ...result }, 'resumed the open metrics interval of the previous run');
    return result;
  }

  /** Counts an imds_request event of the workload; other events and the agent's own requests are ignored. */
  write(event: OutputEvent): void {
    if (event.event !== 'imds_request' || this.closed) return;
    this.counts.add(event as ImdsRequestEvent);
    const folded = this.counts.takeNewlyFolded();
    if (folded.length === 0) return;
    this.counters.foldedProcesses += folded.length;
    this.deps.log.warn({ processes: folded, maxProcesses: this.config.maxProcesses }, 'process dimension limit reached: counting these processes as Process=other');
  }

  /** Ticks every second on the injected clock until `close()`; the timer does not keep the process alive. */
  start(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  /**
   * Closes the intervals that ended (plus the grace) into the spool or EMF
   * file, then publishes unless a flush is already running. Never throws;
   * resolves when this tick's flush is done.
   */
  tick(nowMs: number = this.now()): Promise<void> {
    if (this.closed) return this.flushing ?? Promise.resolve();
    try {
      this.deliver(this.counts.closeBefore(nowMs - (this.deps.lateGraceMs ?? 2000)), nowMs);
    } catch (e) {
      this.deps.log.error({ err: { code: (e as NodeJS.ErrnoException).code, message: (e as Error).message } }, 'could not close a metrics interval');
    }
    return this.publish(nowMs);
  }

  /**
   * Sends what the spool holds. A flush that left batches behind (CloudWatch
   * unreachable, throttling past maxAttempts) makes the next wait: 5 s, then
   * doubling up to one interval, so an outage costs a handful of calls per
   * interval, not one per tick.
   */
  private publish(nowMs: number): Promise<void> {
    if (this.publisher === null) return Promise.resolve();
    if (this.flushing !== null) return this.flushing;
    if (nowMs < this.retryAtMs) return Promise.resolve();
    this.flushing = this.publisher.flush(this.shutdown.signal).then(
      (allSent) => {
        if (allSent) {
          this.retryDelayMs = 0;
          this.retryAtMs = 0;
        } else {
          this.retryDelayMs = Math.min(this.config.intervalSeconds * 1000, Math.max(5000, this.retryDelayMs * 2));
          this.retryAtMs = this.now() + this.retryDelayMs;
        }
      },
      (e: unknown) => this.deps.log.error({ err: { message: (e as Error).message } }, 'metrics flush failed'),
    ).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Closed intervals → spool (cloudwatch) or EMF lines; then the ledger marks each as closed. */
  private deliver(intervals: ClosedInterval[], nowMs: number): void {
    for (const interval of intervals) {
      this.counters.intervalsClosed += 1;
      this.deps.onInterval?.(interval);
      if (this.config.sink === 'none') continue;
      const series = intervalSeries(interval, this.seriesOptions);
      if (this.spool !== null) this.spoolInterval(this.spool, interval, seriesDatums(series, interval.startMs));
      const emf = this.emf;
      if (emf !== null) {
        const written = this.fsStep(() => emf.append(emfLines(series, this.config.namespace, interval.startMs)), 'cannot write metrics EMF lines; their intervals are lost', { file: this.config.emfFile });
        if (!written) this.counters.emfFailedIntervals += 1;
      }
      this.fsStep(() => this.ledger?.mark(interval.id), 'cannot record closed metrics intervals (a restart from an older state file could count one twice)', { dir: this.config.spoolDir });
    }
    if (intervals.length > 0) this.afterClose(nowMs);
  }

  private spoolInterval(spool: Spool, interval: ClosedInterval, datums: ReturnType<typeof seriesDatums>): void {
    const { batches, rejected } = splitIntoBatches(datums, this.config.namespace);
    if (rejected.length > 0) {
      this.counters.rejectedDatums += rejected.length;
      this.deps.log.error({ datums: rejected.length }, 'metric datums over the PutMetricData limits were dropped');
    }
    batches.forEach((batchDatums, index) => {
      const { error } = spool.write({ version: 1, intervalId: interval.id, intervalStartMs: interval.startMs, namespace: this.config.namespace, datums: batchDatums }, index);
      this.fsStep(() => {
        if (error !== null) throw error;
      }, 'cannot write the metrics buffer; holding batches in memory (lost if the agent dies)', { dir: spool.dir });
    });
  }

  private afterClose(nowMs: number): void {
    if (this.spool !== null) this.logDrops(this.spool.prune(nowMs));
    this.fsStep(() => this.ledger?.prune(nowMs), 'cannot prune the closed-interval ledger', { dir: this.config.spoolDir });
  }

  private logDrops(drops: SpoolDrop[]): void {
    for (const drop of drops) {
      this.counters.bufferDroppedIntervals += drop.intervals;
      this.counters.bufferDroppedBatches += drop.batches;
      const limit = drop.reason === 'age' ? { bufferMaxAgeSeconds: this.config.bufferMaxAgeSeconds } : { bufferMaxBytes: this.config.bufferMaxBytes };
      this.deps.log.warn({ ...drop, oldest: new Date(drop.oldestStartMs).toISOString(), ...limit }, 'metrics buffer full: dropped the oldest intervals');
    }
  }

  /** The open interval(s) as JSON for the state file; give it back as `resumeOpenInterval` after a restart. */
  exportOpenInterval(): OpenIntervalsState {
    return this.counts.exportOpen();
  }

  /** Counters for status lines and tests. */
  get stats(): MetricsSinkStats {
    const size = this.spool?.size ?? { batches: 0, bytes: 0 };
    return {
      ...this.counters,
      eventsCounted: this.counts.stats.counted,
      ownIgnored: this.counts.stats.own,
      bufferedBatches: size.batches,
      bufferedBytes: size.bytes,
      emfLines: this.emf?.stats.lines ?? 0,
      publisher: this.publisher === null ? null : { ...this.publisher.stats },
      resumed: this.resumed,
    };
  }

  /**
   * Closes the current interval (partial, timestamped at its start), sends
   * for at most `closeFlushMs` (3 s) and leaves what is not sent in the spool.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const deadline = setTimeout(() => this.shutdown.abort(), this.deps.closeFlushMs ?? 3000);
    try {
      await (this.flushing ?? Promise.resolve());
      const nowMs = this.now();
      this.deliver(this.counts.closeAll(nowMs), nowMs);
      if (this.publisher === null) return;
      this.retryAtMs = 0; // one last try, bounded by the shutdown deadline
      if (!this.shutdown.signal.aborted) await this.publish(nowMs);
      const left = this.spool?.size.batches ?? 0;
      if (left > 0) this.deps.log.warn({ batches: left, dir: this.config.spoolDir }, 'metrics not yet delivered stay in the buffer for the next start');
    } finally {
      clearTimeout(deadline);
    }
  }
}
