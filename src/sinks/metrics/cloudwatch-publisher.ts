// sinks/metrics/: sends the spooled batches to CloudWatch (PutMetricData), oldest first, with backoff; deletes each only once accepted.

import { PutMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { AwsApiError } from '../../errors.js';
import { backoffDelayMs, classifyPutError } from './retry-policy.js';
import type { Spool, SpoolItem } from './spool.js';

/** The structured logger the sink writes to (pino's shape). */
export interface MetricsLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the publisher did, for the status line and the benchmark. */
export interface PublisherStats {
  /** PutMetricData calls made, retries included. */
  calls: number;
  batchesSent: number;
  datumsSent: number;
  /** Attempts after a throttled, 5xx or network failure. */
  retries: number;
  /** Flushes that stopped with batches left for the next interval. */
  deferredFlushes: number;
  /** Batches refused as invalid (or unreadable) and dropped, and their intervals. */
  droppedBatches: number;
  droppedIntervals: number;
}

export interface PublisherOptions {
  client: CloudWatchClient;
  maxAttempts: number;
  log: MetricsLog;
  /** Backoff base and cap; full jitter in between. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  random?: () => number;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Sends spooled batches one at a time, oldest first, so a failed interval is
 * never overtaken by a later one. A batch is removed from the spool only after
 * CloudWatch accepted it (never lost); it is sent again only when the call
 * failed (never doubled, except when an answer is lost after the service
 * accepted the request, or the shutdown deadline cuts a call already on the
 * wire: no client can tell those apart).
 */
export class CloudWatchPublisher {
  readonly stats: PublisherStats = { calls: 0, batchesSent: 0, datumsSent: 0, retries: 0, deferredFlushes: 0, droppedBatches: 0, droppedIntervals: 0 };

  private lastDroppedIntervalId: string | null = null;

  constructor(private readonly spool: Spool, private readonly options: PublisherOptions) {}

  /**
   * Sends until the spool is empty, a batch fails for good this time, or
   * `signal` aborts (the shutdown deadline). Never throws.
   * @returns whether the spool was emptied.
   */
  async flush(signal?: AbortSignal): Promise<boolean> {
    for (let item = this.spool.oldest(); item !== undefined; item = this.spool.oldest()) {
      if (signal?.aborted) return false;
      const outcome = await this.sendOne(item, signal);
      if (outcome === 'deferred') {
        this.stats.deferredFlushes += 1;
        return false;
      }
    }
    return true;
  }

  private async sendOne(item: SpoolItem, signal: AbortSignal | undefined): Promise<'sent' | 'dropped' | 'deferred'> {
    const batch = this.spool.read(item);
    if (batch === null) {
      this.drop(item, { reason: 'unreadable' }, 'dropped an unreadable metrics buffer file');
      return 'dropped';
    }
    const { log, maxAttempts } = this.options;
    const input = { Namespace: batch.namespace, MetricData: batch.datums };
    for (let attempt = 1; ; attempt++) {
      this.stats.calls += 1;
      try {
        await this.options.client.send(new PutMetricDataCommand(input), signal === undefined ? {} : { abortSignal: signal });
        this.spool.remove(item);
        this.stats.batchesSent += 1;
        this.stats.datumsSent += batch.datums.length;
        return 'sent';
      } catch (e) {
        const failure = classifyPutError(e);
        const context = { code: failure.code, status: failure.status, attempt, interval: new Date(batch.intervalStartMs).toISOString(), datums: batch.datums.length };
        if (signal?.aborted) return 'deferred';
        if (failure.action === 'drop') {
          this.drop(item, { ...context, message: (e as Error).message }, 'CloudWatch refused a metrics batch as invalid; dropped it');
          return 'dropped';
        }
        if (failure.action === 'keep' || attempt >= maxAttempts) {
          const err = new AwsApiError('ERR_CLOUDWATCH_PUT', `PutMetricData failed: ${failure.code}: ${(e as Error).message}`, { cause: e });
          const hint = failure.code === 'AccessDenied' || failure.code === 'AccessDeniedException'
            ? 'the agent needs cloudwatch:PutMetricData on its namespace (README "IAM policy")'
            : 'kept in the buffer; sent again next interval';
          log.error({ ...context, err: { code: err.code, message: err.message }, hint, buffered: this.spool.size.batches }, 'could not publish metrics to CloudWatch');
          return 'deferred';
        }
        this.stats.retries += 1;
        const delayMs = backoffDelayMs(attempt - 1, this.options.backoffBaseMs ?? 200, this.options.backoffCapMs ?? 20_000, this.options.random);
        log.warn({ ...context, delayMs }, 'CloudWatch PutMetricData failed; retrying');
        await sleep(delayMs, signal);
      }
    }
  }

  private drop(item: SpoolItem, context: object, message: string): void {
    this.spool.remove(item);
    this.stats.droppedBatches += 1;
    // Batches of one interval are adjacent (oldest first): count the interval once.
    if (item.intervalId !== this.lastDroppedIntervalId) this.stats.droppedIntervals += 1;
    this.lastDroppedIntervalId = item.intervalId;
    this.options.log.error({ ...context, file: item.name }, message);
  }
}
