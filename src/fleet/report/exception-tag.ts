// fleet/report/: pure: reads the exception tag `imds-sniff:exception=<reason>;until=<YYYY-MM-DD>` (the until part optional).

import type { ExceptionTag } from './model.js';

export const EXCEPTION_TAG = 'imds-sniff:exception';

/** The exception on an instance's tags, or null; `expired` once the until day is over (UTC). */
export function exceptionOf(tags: Record<string, string>, nowMs: number): ExceptionTag | null {
  const value = tags[EXCEPTION_TAG];
  if (value === undefined || value.trim() === '') return null;
  const parts = value.split(';').map((p) => p.trim());
  const until = parts.find((p) => p.startsWith('until='))?.slice('until='.length) ?? null;
  const reason = parts.filter((p) => !p.startsWith('until=')).join('; ') || 'no reason given';
  if (until === null) return { reason, until: null, expired: false };
  const end = /^\d{4}-\d{2}-\d{2}$/.test(until) ? Date.parse(`${until}T23:59:59.999Z`) : NaN;
  // An until that is not a date cannot be honoured: treated as expired, so it is seen.
  return { reason, until, expired: Number.isNaN(end) || end < nowMs };
}
