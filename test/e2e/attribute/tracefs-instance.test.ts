// The live tracefs instance: what the tracefs finder's on-demand reads rely on, checked on the running kernel.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { constants } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracefsInstance } from '../../../src/attribute/tracefs/instance.js';
import type { MarkEvent, TraceEvent } from '../../../src/attribute/tracefs/trace-events.js';
import { skipReason } from './testbed.js';

const reason = skipReason();

/** Every open file of every process that is one of `dir`'s per-CPU trace_pipe_raw files: pid, fd and open flags. */
function holdersOf(dir: string): Array<{ pid: number; cpu: number; flags: number }> {
  const found: Array<{ pid: number; cpu: number; flags: number }> = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const cpu = new RegExp(`^${dir}/per_cpu/cpu(\\d+)/trace_pipe_raw$`).exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (cpu === undefined) continue;
        const flags = Number.parseInt(/^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1'))?.[1] ?? '0', 8);
        found.push({ pid: Number(pid), cpu: Number(cpu), flags });
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

describe.skipIf(reason !== null)(`tracefs instance on this kernel${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let instance: TracefsInstance;
  const events: TraceEvent[] = [];

  beforeAll(async () => {
    instance = await TracefsInstance.create();
    instance.stream((batch) => events.push(...batch));
  });

  afterAll(async () => {
    await instance?.close();
  });

  /** Marks written by `tid` among what has been delivered. */
  const marksBy = (tid: number): MarkEvent[] => events.filter((e): e is MarkEvent => e.kind === 'mark' && e.tid === tid);

  it("stamps events on the clock now() reads (trace_clock mono is CLOCK_MONOTONIC), so 'up to the connect' is comparable", () => {
    const before = instance.now();
    const seen = marksBy(process.pid).length;
    instance.mark();
    instance.drain();
    const after = instance.now();
    const mark = marksBy(process.pid)[seen];
    expect(before).not.toBeNull();
    expect(mark?.timestamp).toBeGreaterThanOrEqual(before!);
    expect(mark?.timestamp).toBeLessThanOrEqual(after!);
  });

  it("one drain() hands over what every CPU committed before it, with no waiting: a marker written on each CPU is there when it returns", () => {
    const perCpu = readdirSync(`${instance.dir}/per_cpu`).filter((n) => /^cpu\d+$/.test(n)).length;
    expect(instance.cpus.length).toBe(perCpu);
    expect(instance.cpus.length).toBeGreaterThanOrEqual(1);
    const writers = instance.cpus.map((cpu) => {
      // A shell pinned to the CPU writes the marker and exits before spawnSync returns: the event is committed.
      const run = spawnSync('taskset', ['-c', String(cpu), 'sh', '-c', `echo on-cpu-${cpu} > ${instance.dir}/trace_marker`], { stdio: 'ignore' });
      expect(run.status, `taskset on cpu${cpu}`).toBe(0);
      return { cpu, pid: run.pid };
    });
    for (const w of writers) expect(marksBy(w.pid), `cpu${w.cpu} before the drain`).toHaveLength(0);
    instance.drain();
    // Each marker is in its own CPU's buffer only (taskset): every one of them was read.
    for (const w of writers) expect(marksBy(w.pid), `cpu${w.cpu}`).toHaveLength(1);
    // Read to the end: another drain with nothing new committed finds none of them again.
    const count = events.length;
    instance.drain();
    expect(events.slice(count).filter((e) => e.kind === 'mark' && writers.some((w) => w.pid === e.tid))).toHaveLength(0);
  });

  it('needs no reader process: this process alone holds each CPU\'s trace_pipe_raw, opened non-blocking', () => {
    const holders = holdersOf(instance.dir);
    expect(holders.map((h) => h.pid).every((pid) => pid === process.pid)).toBe(true);
    expect(holders.map((h) => h.cpu).sort((a, b) => a - b)).toEqual([...instance.cpus]);
    for (const h of holders) expect(h.flags & constants.O_NONBLOCK, `cpu${h.cpu}`).toBe(constants.O_NONBLOCK);
  });

  it('close() lets go of the files and removes the instance', async () => {
    const other = await TracefsInstance.create();
    other.stream(() => {});
    other.drain();
    expect(existsSync(other.dir)).toBe(true);
    await other.close();
    expect(existsSync(other.dir)).toBe(false);
    expect(holdersOf(other.dir)).toHaveLength(0);
  });
});
