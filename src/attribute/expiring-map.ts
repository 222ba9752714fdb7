// Pure: a Map bounded by age and size, so attribution state stays flat on a busy host.

/** Options for {@link ExpiringMap}. */
export interface ExpiringMapOptions {
  /** Entries older than this are dropped. */
  ttlMs: number;
  /** The oldest entries are dropped beyond this many. */
  maxEntries: number;
}

/**
 * Map whose entries expire `ttlMs` after they were last set, and which never holds more than
 * `maxEntries`. The caller passes the clock, so tests need no timers. Insertion order is
 * age order, so expiry only ever looks at the front.
 */
export class ExpiringMap<K, V> {
  private readonly entries = new Map<K, { value: V; atMs: number }>();

  constructor(private readonly opts: ExpiringMapOptions) {}

  /** Sets (or refreshes) `key`, then drops what is too old or too many. */
  set(key: K, value: V, nowMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, atMs: nowMs });
    this.prune(nowMs);
  }

  /** The value if present and not expired. */
  get(key: K, nowMs: number): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (nowMs - e.atMs > this.opts.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Forgets `key`; true if it was there. */
  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** Entries held, expired ones not yet pruned included. */
  get size(): number {
    return this.entries.size;
  }

  /** Drops expired entries from the front and the oldest beyond maxEntries. */
  prune(nowMs: number): void {
    for (const [key, e] of this.entries) {
      if (this.entries.size <= this.opts.maxEntries && nowMs - e.atMs <= this.opts.ttlMs) break;
      this.entries.delete(key);
    }
  }
}
