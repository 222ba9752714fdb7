// Mock IMDS session tokens: issues them (random or a fixed canary) and checks their expiry.

import { randomBytes } from 'node:crypto';

/** Lowest and highest X-aws-ec2-metadata-token-ttl-seconds that IMDS accepts. */
export const TOKEN_TTL_RANGE_SECONDS = { min: 1, max: 21_600 } as const;

/** Outcome of checking a presented token. */
export type TokenCheck = 'valid' | 'expired' | 'unknown';

/**
 * Remembers issued tokens until they expire. The clock is injectable so tests can
 * expire a token without sleeping.
 */
export class TokenStore {
  private readonly expiresAtMs = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Issues a token valid for ttlSeconds. A fixed token is re-armed rather than
   * duplicated, so the latest issue decides its expiry.
   */
  issue(ttlSeconds: number, fixedToken: string | null): string {
    this.prune();
    // 42 random bytes give the 56 base64 characters real IMDS tokens have.
    const token = fixedToken ?? randomBytes(42).toString('base64');
    this.expiresAtMs.set(token, this.now() + ttlSeconds * 1000);
    return token;
  }

  /** Says whether a presented token was issued and is still inside its TTL. */
  check(token: string): TokenCheck {
    const expiresAt = this.expiresAtMs.get(token);
    if (expiresAt === undefined) return 'unknown';
    return this.now() < expiresAt ? 'valid' : 'expired';
  }

  /** Forgets every token, as an instance stop/start would. */
  clear(): void {
    this.expiresAtMs.clear();
  }

  /** Drops tokens expired for a while so a long run does not grow the map. */
  private prune(): void {
    const horizon = this.now() - TOKEN_TTL_RANGE_SECONDS.max * 1000;
    for (const [token, expiresAt] of this.expiresAtMs) {
      if (expiresAt < horizon) this.expiresAtMs.delete(token);
    }
  }
}

/**
 * Parses the TTL header of a token PUT. Returns the seconds, or undefined when the
 * header is missing, not a plain integer, or outside 1..21600 (IMDS answers 400).
 */
export function parseTokenTtlSeconds(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string' || !/^\s*\d{1,6}\s*$/.test(header)) return undefined;
  const ttl = Number(header.trim());
  return ttl >= TOKEN_TTL_RANGE_SECONDS.min && ttl <= TOKEN_TTL_RANGE_SECONDS.max ? ttl : undefined;
}
