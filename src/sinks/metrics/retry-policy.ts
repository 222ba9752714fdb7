// sinks/metrics/: pure: what to do after a failed PutMetricData call, how long to wait before the next attempt, and before the next flush.

/**
 * `retry`: transient (throttling, 5xx, network): try again after a backoff.
 * `keep`: the service refused for a reason that can go away (permissions,
 * credentials, quota): keep the batch for the next interval.
 * `drop`: the request itself is invalid and always will be: drop and count.
 */
export type PutErrorAction = 'retry' | 'keep' | 'drop';

export interface ClassifiedPutError {
  action: PutErrorAction;
  /** The AWS error code (query-compatible `Code`, else the exception name) or the network error code. */
  code: string;
  /** HTTP status of the answer; null when none came. */
  status: number | null;
}

const THROTTLING = new Set([
  'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottled', 'RequestThrottledException',
  'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown',
]);

/** Refusals of the request's content: sending it again cannot succeed. */
const INVALID_REQUEST = new Set([
  'InvalidParameterValue', 'InvalidParameterValueException', 'InvalidParameterCombination', 'InvalidParameterCombinationException',
  'MissingParameter', 'MissingRequiredParameter', 'MissingRequiredParameterException', 'ValidationError', 'ValidationException',
  'SerializationException', 'RequestEntityTooLarge', 'RequestEntityTooLargeException',
]);

/** Errors from the client or the socket before any answer: worth another attempt. */
const TRANSIENT_NO_ANSWER = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError',
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** Sorts an error thrown by `CloudWatchClient.send(PutMetricDataCommand)`. */
export function classifyPutError(error: unknown): ClassifiedPutError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : null;
  const names = [e.Code, e.code, e.name].filter((n): n is string => typeof n === 'string' && n !== '' && n !== 'Error');
  const code = names[0] ?? 'unknown';
  if (names.some((n) => THROTTLING.has(n)) || status === 429) return { action: 'retry', code, status };
  if (status !== null && status >= 500) return { action: 'retry', code, status };
  if (names.some((n) => INVALID_REQUEST.has(n)) || status === 413) return { action: 'drop', code, status };
  if (status !== null) return { action: 'keep', code, status };
  if (names.some((n) => TRANSIENT_NO_ANSWER.has(n))) return { action: 'retry', code, status };
  // No answer and not a socket error: credentials, an aborted call, a bug. Keep it for later.
  return { action: 'keep', code, status };
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"): a uniform wait between 0 and min(cap, base · 2^retry),
 * so many agents throttled together do not retry together.
 * @param retry 0 for the wait before the second attempt.
 */
export function backoffDelayMs(retry: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** retry));
}

/** The first wait after a flush that left batches behind. */
export const FLUSH_RETRY_FIRST_MS = 5000;

/**
 * When the next flush may run after one that left batches behind (CloudWatch
 * unreachable, throttling past maxAttempts): 5 s, then doubling up to one
 * interval, so an outage costs a handful of calls per interval, not one per tick.
 */
export class FlushBackoff {
  private retryAtMs = 0;
  private delayMs = 0;

  constructor(private readonly capMs: number) {}

  /** Whether a flush may start at `nowMs`. */
  due(nowMs: number): boolean {
    return nowMs >= this.retryAtMs;
  }

  /** Records a flush's outcome, at `nowMs` (its end). */
  after(allSent: boolean, nowMs: number): void {
    if (allSent) {
      this.reset();
      return;
    }
    this.delayMs = Math.min(this.capMs, Math.max(FLUSH_RETRY_FIRST_MS, this.delayMs * 2));
    this.retryAtMs = nowMs + this.delayMs;
  }

  /** Lets the next flush run at once (the last one at shutdown). */
  reset(): void {
    this.delayMs = 0;
    this.retryAtMs = 0;
  }
}
