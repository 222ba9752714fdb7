// config/: parses human durations ("90s", "10m", "1h", "1h30m", "500ms") for flags and config.

import { UsageError } from '../errors.js';
import { quote } from '../text/quote.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** The longest a timer can wait (2^31 - 1 ms, ~24.8 days); longer runs use no --duration. */
export const MAX_DURATION_MS = 2_147_483_647;

/** Milliseconds in `text`. A bare number means seconds. Throws UsageError naming the flag. */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  const bare = /^\d+(\.\d+)?$/.test(trimmed);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const joined = parts.map((p) => p[0]).join('');
  if (!bare && (parts.length === 0 || joined !== trimmed)) {
    throw new UsageError(`${flag}: ${quote(text)} is not a duration`, { hint: 'use e.g. 90s, 10m, 1h or 1h30m' });
  }
  const ms = bare ? Number(trimmed) * 1000 : parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
  if (ms <= 0) throw new UsageError(`${flag}: duration must be greater than zero`);
  if (ms > MAX_DURATION_MS) throw new UsageError(`${flag}: ${quote(text)} is too long (at most 24d)`, { hint: 'leave --duration out to run until stopped' });
  return Math.round(ms);
}
