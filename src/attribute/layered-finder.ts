// attribute/: tracefs first, /proc when tracefs cannot know (connections older than the agent) or fails.

import type { AttributionCounters, LookupHint, ProcessInfo, SocketKey, SocketOwnerFinder } from './types.js';

/** How long the /proc fallback may take for one connection. */
const FALLBACK_TIMEOUT_MS = 300;

/**
 * Tries the tracefs finder, then the procfs one: a connection opened before
 * the agent started (seen mid-stream) never produced a trace line, and a
 * long-lived process keeps its socket open, so /proc finds it. A miss of the
 * trace goes to /proc only when the trace lost events lately. When tracefs
 * fails during the run (its reader died), every lookup goes to /proc and
 * `failure` says why.
 */
export class LayeredOwnerFinder implements SocketOwnerFinder {
  readonly method = 'tracefs' as const;

  constructor(
    private readonly primary: SocketOwnerFinder,
    private readonly fallback: SocketOwnerFinder,
  ) {}

  get failure(): string | null {
    return this.primary.failure ?? null;
  }

  async start(): Promise<void> {
    await this.primary.start();
    await this.fallback.start();
  }

  async find(key: SocketKey, timeoutMs: number, hint?: LookupHint): Promise<ProcessInfo> {
    if (hint?.midStream || this.failure !== null) return this.fallback.find(key, Math.min(timeoutMs, FALLBACK_TIMEOUT_MS), hint);
    const found = await this.primary.find(key, timeoutMs, hint);
    // A connection the trace saw no connect for, though it lost nothing, was not made while it
    // watched: /proc cannot do better, and scanning it for each such miss on a starved host
    // only starves it more.
    if (found.attribution !== 'unknown' || this.primary.missedRecently?.() === false) return found;
    return this.fallback.find(key, Math.min(timeoutMs, FALLBACK_TIMEOUT_MS), hint);
  }

  counters(): AttributionCounters | undefined {
    return this.primary.counters?.();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.primary.close(), this.fallback.close()]);
  }
}
