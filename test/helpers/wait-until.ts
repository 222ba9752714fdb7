// Test support: the one poll-to-a-deadline helper of test/ and benchmarks/ (a condition, never a fixed sleep).

/** How often waitUntil checks again by default: short, so a test waits little past the moment. */
export const WAIT_POLL_MS = 20;

/** Thrown by waitUntil when the check has not passed by the deadline. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

/**
 * Calls `check` until it returns something other than `undefined` or `false`, and resolves
 * with that; every `intervalMs` (default 20 ms). Rejects with WaitTimeoutError ("timed out
 * after <ms> ms waiting for <what>", plus `detail()` when given) once `timeoutMs` has passed.
 * An error thrown by `check` rejects at once: a broken check should not look like a slow one.
 */
export async function waitUntil<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
  options: { intervalMs?: number; detail?: () => string } = {},
): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
    if (Date.now() >= deadline) {
      const detail = options.detail?.();
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${detail === undefined ? '' : `: ${detail}`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(options.intervalMs ?? WAIT_POLL_MS, deadline - Date.now()))));
  }
}
