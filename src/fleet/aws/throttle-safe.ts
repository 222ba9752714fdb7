// fleet/aws/: runs AWS calls with bounded concurrency, and retries throttling past the SDK's own attempts, so no ThrottlingException reaches the user.

import { awsErrorCode, isTransientAwsError } from '../../aws/aws-errors.js';

/** Rounds after the SDK's own (adaptive) attempts gave up on a throttled or 5xx call. */
export const OUTER_ROUNDS = 5;

export interface RetryOptions {
  rounds?: number;
  baseMs?: number;
  capMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `call()`, asked again after a transient failure (throttling, 5xx, the
 * network) with full-jitter backoff: the SDK already retried with its adaptive
 * rate limiter, so this only matters when a whole account is throttled for
 * seconds. Other failures are thrown at once.
 */
export async function throttleSafe<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const rounds = options.rounds ?? OUTER_ROUNDS;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? sleepFor;
  for (let round = 0; ; round++) {
    try {
      return await call();
    } catch (error) {
      if (round >= rounds || !isTransientAwsError(error)) throw error;
      const ceiling = Math.min(options.capMs ?? 20_000, (options.baseMs ?? 1_000) * 2 ** round);
      await sleep(Math.floor(random() * ceiling));
    }
  }
}

/** True for the AWS error codes of throttling (for counting). */
export function isThrottling(error: unknown): boolean {
  return /Throttl|RequestLimitExceeded|TooManyRequests|SlowDown/.test(awsErrorCode(error));
}

/** Runs `fn` on every item with at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Each page of a paginated call, each page throttle-safe on its own (a retry does not start over). */
export async function allPages<P>(fetch: (token: string | undefined) => Promise<P>, next: (page: P) => string | undefined): Promise<P[]> {
  const pages: P[] = [];
  let token: string | undefined;
  do {
    const page = await throttleSafe(() => fetch(token));
    pages.push(page);
    token = next(page);
  } while (token);
  return pages;
}
