// The live tracefs instance: what the tracefs finder's catch-up relies on, checked on the running kernel.

import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracefsInstance } from '../../../src/attribute/tracefs/instance.js';
import type { TraceEvent } from '../../../src/attribute/tracefs/trace-events.js';
import { skipReason } from './testbed.js';

const reason = skipReason();

describe.skipIf(reason !== null)(`tracefs instance on this kernel${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let instance: TracefsInstance;
  const events: TraceEvent[] = [];
  const waiters: (() => void)[] = [];

  beforeAll(async () => {
    instance = await TracefsInstance.create();
    instance.stream((batch) => {
      events.push(...batch);
      for (const w of waiters.splice(0)) w();
    });
  });

  afterAll(async () => {
    await instance?.close();
  });

  async function markRead(): Promise<TraceEvent> {
    const before = events.length;
    instance.mark();
    for (;;) {
      const mark = events.slice(before).find((e) => e.kind === 'mark' && e.tid === process.pid);
      if (mark) return mark;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }

  it("stamps events on the clock now() reads (trace_clock mono is CLOCK_MONOTONIC), so 'up to the connect' is comparable", async () => {
    const before = instance.now();
    const mark = await markRead();
    const after = instance.now();
    expect(before).not.toBeNull();
    expect(mark.timestamp).toBeGreaterThanOrEqual(before!);
    expect(mark.timestamp).toBeLessThanOrEqual(after!);
  });

  it("knows every CPU's buffer, and counts as the kernel does what came through (per_cpu stats: entries + read events)", async () => {
    await markRead(); // the readers run
    const perCpu = readdirSync(`${instance.dir}/per_cpu`).filter((n) => /^cpu\d+$/.test(n)).length;
    expect(instance.cpus.length).toBe(perCpu);
    expect(instance.cpus.length).toBeGreaterThanOrEqual(1);
    expect(instance.pendingEvents(100_000)).toBeNull(); // no such CPU
    // What each buffer held reaches this process: the kernel's count (in the buffer + taken by the
    // reader) and ours meet, on every CPU. A drift here would hold every catch-up to its deadline.
    const deadline = Date.now() + 5_000;
    let pending = instance.cpus.map((cpu) => instance.pendingEvents(cpu));
    while (pending.some((n) => n !== 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      pending = instance.cpus.map((cpu) => instance.pendingEvents(cpu));
    }
    expect(pending).toEqual(instance.cpus.map(() => 0));
  });
});
