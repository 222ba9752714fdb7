// Puts events read from per-CPU ring buffers back into kernel time order.

import type { TraceEvent } from './trace-events.js';

/** Options for {@link ReorderBuffer}. */
export interface ReorderBufferOptions {
  /**
   * How long an event waits after it arrived for earlier events of other CPUs; default 10 ms.
   * A connection's transitions can fire on different CPUs (connect() in the caller, the
   * SYN-ACK in a softirq elsewhere), and each CPU's buffer is read on its own.
   */
  holdbackMs?: number;
  /** Milliseconds clock; default performance.now. */
  now?: () => number;
}

interface Held {
  event: TraceEvent;
  arrivedMs: number;
  seq: number;
}

/**
 * Collects the batches each CPU's reader delivers (each in order) and hands them on merged
 * by timestamp once they have waited `holdbackMs`. Events without a timestamp (lost-event
 * notes) go with the batch they came in.
 */
export class ReorderBuffer {
  private held: Held[] = [];
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private readonly holdbackMs: number;
  private readonly now: () => number;

  constructor(
    private readonly release: (events: TraceEvent[]) => void,
    opts: ReorderBufferOptions = {},
  ) {
    this.holdbackMs = opts.holdbackMs ?? 10;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Adds one CPU's batch (in that CPU's order). */
  push(events: TraceEvent[]): void {
    if (events.length === 0) return;
    const arrivedMs = this.now();
    for (const event of events) this.held.push({ event, arrivedMs, seq: this.seq++ });
    if (this.holdbackMs <= 0) this.flush(Infinity);
    else this.schedule();
  }

  /** Releases everything held now (at close, or before answering a barrier). */
  drain(): void {
    this.flush(Infinity);
  }

  /**
   * Releases now, in order, the held events at or before kernel time `t`: for a caller that
   * knows every CPU has delivered its events up to `t`, so none earlier can still come.
   */
  releaseUpTo(t: number): void {
    const out = this.held.filter((h) => timestampOf(h.event) <= t);
    if (out.length === 0) return;
    this.held = this.held.filter((h) => timestampOf(h.event) > t);
    out.sort((a, b) => timestampOf(a.event) - timestampOf(b.event) || a.seq - b.seq);
    this.release(out.map((h) => h.event));
  }

  /** Stops the timer; held events are dropped. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.held = [];
  }

  private schedule(): void {
    if (this.timer || this.held.length === 0) return;
    const oldest = this.held.reduce((min, h) => Math.min(min, h.arrivedMs), Infinity);
    const wait = Math.max(0, oldest + this.holdbackMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush(this.now() - this.holdbackMs);
      this.schedule();
    }, wait);
    this.timer.unref?.();
  }

  /**
   * Releases the events that arrived by `arrivedBy`, plus any held event older (in kernel
   * time) than the newest of those, in timestamp order.
   */
  private flush(arrivedBy: number): void {
    const due = this.held.filter((h) => h.arrivedMs <= arrivedBy);
    if (due.length === 0) return;
    const horizon = due.reduce((max, h) => Math.max(max, timestampOf(h.event)), -Infinity);
    const out: Held[] = [];
    const keep: Held[] = [];
    for (const h of this.held) (h.arrivedMs <= arrivedBy || timestampOf(h.event) <= horizon ? out : keep).push(h);
    this.held = keep;
    out.sort((a, b) => timestampOf(a.event) - timestampOf(b.event) || a.seq - b.seq);
    this.release(out.map((h) => h.event));
  }
}

/** Kernel time in seconds; events without one sort where they arrived (-Infinity keeps them first). */
function timestampOf(event: TraceEvent): number {
  return event.timestamp ?? -Infinity;
}
