// sinks/metrics/: what every metrics sink shares: counts imds_request events per interval, closes the finished ones, resumes after a restart.

import { randomBytes } from 'node:crypto';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ImdsRequestEvent } from '../../contract/imds-request-event.js';
import type { OutputEvent } from '../../contract/output-events.js';
import type { Sink } from '../../contract/sink.js';
import { ClosedLedger } from './closed-ledger.js';
import type { MetricsLog, PublisherStats } from './cloudwatch-publisher.js';
import type { MetricsConfig, MetricsIdentity } from './config.js';
import { intervalSeries, type MetricSeries, type SeriesOptions } from './datums.js';
import { IntervalCounts, type ClosedInterval, type ImportResult, type OpenIntervalsState } from './interval-counts.js';

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
 * A metrics sink. `write` only counts; `tick` (the daemon calls it, or
 * `start()` does every second) closes finished intervals and hands each to
 * `deliverInterval` (the subclass: the spool, the EMF file, or nothing), then
 * `publish`; `close` delivers the partial interval and ends with `finish`.
 */
export abstract class MetricsSink implements Sink {
  protected readonly now: () => number;
  private readonly counts: IntervalCounts;
  private readonly seriesOptions: SeriesOptions;
  private readonly ledger: ClosedLedger | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  protected readonly counters = { intervalsClosed: 0, foldedProcesses: 0, bufferDroppedIntervals: 0, bufferDroppedBatches: 0, rejectedDatums: 0, emfFailedIntervals: 0 };
  private resumed: ImportResult | null = null;
  /** Aborts every PutMetricData call and backoff at the shutdown deadline. */
  protected readonly shutdown = new AbortController();
  /** File system failures already logged (each is logged once until it recovers). */
  private readonly failing = new Set<string>();

  constructor(protected readonly config: MetricsConfig, identity: MetricsIdentity, protected readonly deps: MetricsSinkDeps) {
    this.now = deps.now ?? Date.now;
    this.seriesOptions = { identity, includeAutoScalingGroup: config.includeAutoScalingGroup };
    this.counts = new IntervalCounts({ intervalSeconds: config.intervalSeconds, maxProcesses: config.maxProcesses, runId: randomBytes(4).toString('hex'), startMs: this.now() });
    if (config.sink !== 'none') {
      this.ledger = new ClosedLedger(config.spoolDir, config.bufferMaxAgeSeconds * 1000);
      this.fsStep(() => this.ledger?.open(), 'cannot create the metrics buffer directory; counts are held in memory until it can be written', { dir: config.spoolDir });
    }
  }

  /** Takes the open interval of the run before a restart; each subclass calls it once its own parts exist. */
  protected resumeOpenInterval(): void {
    const state = this.deps.resumeOpenInterval;
    if (state === undefined || state === null) return;
    const oldestMs = this.now() - this.config.bufferMaxAgeSeconds * 1000;
    const result = this.counts.importOpen(state, (id) => idStartMs(id) < oldestMs || (this.ledger?.has(id) ?? false) || this.holdsInterval(id));
    if (result.invalid !== null) this.deps.log.warn({ reason: result.invalid }, 'ignored the saved open metrics interval');
    else this.deps.log.info({ ...result }, 'resumed the open metrics interval of the previous run');
    this.resumed = result;
  }

  /** Whether an interval is already delivered but not yet sent (the CloudWatch spool). */
  protected holdsInterval(_id: string): boolean {
    return false;
  }

  /** Delivers one closed interval's series. Never throws: a failure is logged (fsStep) and counted. */
  protected abstract deliverInterval(interval: ClosedInterval, series: MetricSeries[]): void;

  /** The publishing still running, if any (a closed sink starts none). */
  protected inFlight(): Promise<void> {
    return Promise.resolve();
  }

  /** Sends what was delivered, when the sink sends at all. Never throws. */
  protected publish(_nowMs: number, _final: boolean): Promise<void> {
    return Promise.resolve();
  }

  /** After intervals closed: prune what the sink keeps. */
  protected afterDelivery(_nowMs: number): void {}

  /** The sink's own part of the stats. */
  protected abstract ownStats(): Pick<MetricsSinkStats, 'bufferedBatches' | 'bufferedBytes' | 'emfLines' | 'publisher'>;

  /** Runs a file system step; a failure is logged once per kind (until a step of that kind succeeds again), never thrown. */
  protected fsStep(step: () => void, message: string, context: object): boolean {
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
   * Closes the intervals that ended (plus the grace) and delivers them, then
   * publishes. Never throws; resolves when this tick's publishing is done.
   */
  tick(nowMs: number = this.now()): Promise<void> {
    if (this.closed) return this.inFlight();
    try {
      this.deliver(this.counts.closeBefore(nowMs - (this.deps.lateGraceMs ?? 2000)), nowMs);
    } catch (e) {
      this.deps.log.error({ err: { code: (e as NodeJS.ErrnoException).code, message: (e as Error).message } }, 'could not close a metrics interval');
    }
    return this.publish(nowMs, false);
  }

  /** Closed intervals → the sink's delivery; then the ledger marks each as closed. */
  private deliver(intervals: ClosedInterval[], nowMs: number): void {
    for (const interval of intervals) {
      this.counters.intervalsClosed += 1;
      this.deps.onInterval?.(interval);
      if (this.config.sink === 'none') continue;
      this.deliverInterval(interval, intervalSeries(interval, this.seriesOptions));
      this.fsStep(() => this.ledger?.mark(interval.id), 'cannot record closed metrics intervals (a restart from an older state file could count one twice)', { dir: this.config.spoolDir });
    }
    if (intervals.length === 0) return;
    this.afterDelivery(nowMs);
    this.fsStep(() => this.ledger?.prune(nowMs), 'cannot prune the closed-interval ledger', { dir: this.config.spoolDir });
  }

  /** The open interval(s) as JSON for the state file; give it back as `resumeOpenInterval` after a restart. */
  exportOpenInterval(): OpenIntervalsState {
    return this.counts.exportOpen();
  }

  /** Counters for status lines and tests. */
  get stats(): MetricsSinkStats {
    return { ...this.counters, eventsCounted: this.counts.stats.counted, ownIgnored: this.counts.stats.own, ...this.ownStats(), resumed: this.resumed };
  }

  /**
   * Closes the current interval (partial, timestamped at its start) and
   * publishes for at most `closeFlushMs` (3 s); what is not sent stays for the next start.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const deadline = setTimeout(() => this.shutdown.abort(), this.deps.closeFlushMs ?? 3000);
    try {
      await this.inFlight();
      const nowMs = this.now();
      this.deliver(this.counts.closeAll(nowMs), nowMs);
      await this.publish(nowMs, true);
    } finally {
      clearTimeout(deadline);
    }
  }
}

/** `sink: none`: counts for the interval summaries, delivers nothing. */
export class CountingMetricsSink extends MetricsSink {
  constructor(config: MetricsConfig, identity: MetricsIdentity, deps: MetricsSinkDeps) {
    super(config, identity, deps);
    this.resumeOpenInterval();
  }

  protected deliverInterval(): void {}

  protected ownStats(): Pick<MetricsSinkStats, 'bufferedBatches' | 'bufferedBytes' | 'emfLines' | 'publisher'> {
    return { bufferedBatches: 0, bufferedBytes: 0, emfLines: 0, publisher: null };
  }
}
