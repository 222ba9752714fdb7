// The live tracefs instance: what the tracefs finder's catch-up relies on, checked on the running kernel.

import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracefsInstance } from '../../../src/attribute/tracefs/instance.js';
import type { TraceEvent } from '../../../src/attribute/tracefs/trace-events.js';
import { waitUntil } from '../../helpers/wait-until.js';

const reason = process.platform !== 'linux' ? 'needs Linux' : process.getuid?.() !== 0 ? 'needs root (tracefs)' : null;

/** Closes a duplicate (pidfd_getfd) of another process's open file: the kernel's flush of that file. */
const CLOSE_DUPLICATE = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pidfd = os.pidfd_open(int(sys.argv[1]))
fd = libc.syscall(438, pidfd, int(sys.argv[2]), 0)
if fd < 0: sys.exit("pidfd_getfd: " + os.strerror(ctypes.get_errno()))
os.close(fd)
`;

/** From 6.8 the flush of a trace_pipe_raw file wakes its reader with a read of 0 bytes ("tracing: Use .flush() call to wake up readers"). */
function flushEndsRead(): boolean {
  const [major = 0, minor = 0] = release().split('.').map(Number);
  return major > 6 || (major === 6 && minor >= 8);
}

/** Per CPU, the pid and fd of the process reading `dir`'s per_cpu/cpuN/trace_pipe_raw. */
function readersOf(dir: string): Map<number, { pid: number; fd: number }> {
  const found = new Map<number, { pid: number; fd: number }>();
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(dir)) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const cpu = new RegExp(`^${dir}/per_cpu/cpu(\\d+)/trace_pipe_raw$`).exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (cpu !== undefined) found.set(Number(cpu), { pid: Number(pid), fd: Number(fd) });
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import os; os.pidfd_open'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

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

  /** Resolves when `check` holds after a batch of events (or at once). */
  async function eventsUntil(check: () => boolean): Promise<void> {
    while (!check()) await new Promise<void>((resolve) => waiters.push(resolve));
  }

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
    const pendingEvents = (): (number | null)[] => instance.cpus.map((cpu) => instance.pendingEvents(cpu));
    await waitUntil(() => pendingEvents().every((n) => n === 0), 5_000, 'no pending events on any CPU').catch(() => undefined);
    expect(pendingEvents()).toEqual(instance.cpus.map(() => 0));
  });

  it.skipIf(!hasPython())('a reader whose read(2) returns 0 on a live instance is started again, and what follows on its CPU still arrives', async () => {
    await markRead(); // the readers run
    const before = readersOf(instance.dir);
    expect([...before.keys()].sort()).toEqual([...instance.cpus]);
    // The same wake-up as a commit that races the reader's emptiness check: a read of 0 bytes, which ends `cat`.
    for (const { pid, fd } of before.values()) execFileSync('python3', ['-c', CLOSE_DUPLICATE, String(pid), String(fd)]);
    if (flushEndsRead()) {
      // A restart makes no event: poll the count, to a deadline.
      await waitUntil(() => instance.readerRestarts >= before.size || instance.failure !== null, 5_000, 'every reader to be started again').catch(() => undefined);
      expect(instance.readerRestarts).toBeGreaterThanOrEqual(before.size);
      const after = readersOf(instance.dir);
      for (const [cpu, r] of before) expect(after.get(cpu)?.pid, `cpu${cpu}`).not.toBe(r.pid);
    }
    expect(instance.failure).toBeNull();
    // A marker written on each CPU arrives, and only that CPU's (new) reader can have read it.
    for (const cpu of instance.cpus) {
      const writer = spawn('taskset', ['-c', String(cpu), 'sh', '-c', `echo after-restart > ${instance.dir}/trace_marker`], { stdio: 'ignore' });
      const pid = writer.pid!;
      await eventsUntil(() => events.some((e) => e.kind === 'mark' && e.tid === pid));
    }
    expect(instance.failure).toBeNull();
  });
});
