// A private tracefs instance whose per-CPU ring buffers are read raw and decoded with the kernel's own layouts.

import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readdirSync, readSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { acquireTracefs, type TracefsMount } from './mount.js';
import { eventsOfPage, pageSize, type PageDecoding } from './page-events.js';
import { PageStream } from './page-stream.js';
import { createRecordDecoder } from './record-decoder.js';
import { checkTracefsSupport, TRACE_EVENTS } from './support.js';
import type { TraceEvent, TraceEventSource } from './trace-events.js';

const INSTANCE_PREFIX = 'imds-sniff-';
/** Per-CPU ring buffer size asked for; the kernel default (~1.4 MiB per CPU) is more than the filtered events need. */
const BUFFER_KB = 512;
/**
 * Pages one drain() takes from a CPU at most (4× its buffer): a flood of events that the kernel
 * writes as fast as they are read cannot hold the event loop; the rest waits for the next drain.
 */
const MAX_PAGES_PER_DRAIN = (BUFFER_KB * 1024 * 4) / 4096;

/** Options for {@link TracefsInstance.create}. */
export interface TracefsInstanceOptions {
  /** Only connections to this port are traced (the filter runs in the kernel); default 80. */
  dstPort?: number;
  /** Mount table to look for tracefs in; default /proc/self/mounts. */
  mountsPath?: string;
}

/**
 * One private instance (`instances/imds-sniff-<pid>-<rand>`): its own ring buffers, filter
 * and clock, so other tracing users are not disturbed. Each CPU's `trace_pipe_raw` is opened
 * non-blocking and read by {@link drain} on this thread, when the caller asks: a read takes
 * what the buffer holds and stops at EAGAIN, so one call reads every CPU up to the moment it
 * was made, and nothing waits in the kernel (no reader process, no wake-up per event). The
 * pages are decoded here with the layouts the running kernel publishes (events/header_page,
 * header_event and each event's format), so no kernel version is assumed.
 */
export class TracefsInstance implements TraceEventSource {
  /** Human-readable notes about optional features missing and settings not applied. */
  readonly notes: string[] = [];
  /** Set when a read failed (the stream is dead). */
  failure: string | null = null;
  /** The CPUs whose buffers are read, once streaming. */
  cpus: readonly number[] = [];
  /** Per CPU: its trace_pipe_raw (non-blocking) and the splitter its reads go through. */
  private readonly files = new Map<number, { fd: number; pages: PageStream }>();
  private readBuffer: Buffer | null = null;
  private onEvents: ((events: TraceEvent[]) => void) | null = null;
  /** True when trace_clock is 'mono', the clock process.hrtime reads. */
  private monoClock = false;
  private closing: Promise<void> | null = null;
  private readonly exitHook = (): void => this.closeSync();

  private constructor(
    private readonly mount: TracefsMount,
    /** Absolute instance directory. */
    readonly dir: string,
    private readonly enabled: string[],
    private readonly decoding: PageDecoding,
  ) {}

  /** Creates and configures the instance; throws with what is missing if the kernel cannot. */
  static async create(opts: TracefsInstanceOptions = {}): Promise<TracefsInstance> {
    const mount = await acquireTracefs(opts.mountsPath);
    let dir: string | null = null;
    try {
      const support = await checkTracefsSupport(mount.root);
      if (support.missing.length > 0 || !support.formats || !support.page || !support.header) {
        throw new Error(`tracefs at ${mount.root} lacks ${support.missing.join(', ')}`);
      }
      const notes = [...support.notes];
      if (mount.mountedByUs) notes.push(`mounted tracefs at ${mount.root}`);
      await removeStaleInstances(mount.root);

      const instanceDir = path.join(mount.root, 'instances', `${INSTANCE_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`);
      await mkdir(instanceDir);
      dir = instanceDir;
      const set = (file: string, value: string): Promise<void> => writeFile(path.join(instanceDir, file), value);
      const port = opts.dstPort ?? 80;
      const filter = support.hasProtocolField ? `dport == ${port} && protocol == 6` : `dport == ${port}`;
      await set(`events/${TRACE_EVENTS.sockState}/filter`, filter).catch((cause: unknown) => {
        throw new Error(`tracefs rejected filter '${filter}' on inet_sock_set_state`, { cause });
      });
      // One clock for all CPUs, so their events can be merged in order.
      const monoClock = await set('trace_clock', 'mono').then(
        () => true,
        () => {
          notes.push("trace_clock 'mono' unavailable: CPUs merged on the local clock");
          return false;
        },
      );
      await set('buffer_size_kb', String(BUFFER_KB)).catch(() => {});
      const f = support.formats;
      const enabled = [
        TRACE_EVENTS.sockState,
        ...(f.exec ? [TRACE_EVENTS.exec] : []),
        ...(f.fork ? [TRACE_EVENTS.fork] : []),
        ...(f.cgroupAttach ? [TRACE_EVENTS.cgroupAttach] : []),
      ];
      for (const e of enabled) await set(`events/${e}/enable`, '1');

      const decoding = { page: support.page, header: support.header, decode: createRecordDecoder(f) };
      const instance = new TracefsInstance(mount, instanceDir, enabled, decoding);
      instance.notes.push(...notes);
      instance.monoClock = monoClock;
      process.once('exit', instance.exitHook);
      return instance;
    } catch (err) {
      if (dir) await removeInstanceDir(dir).catch(() => {});
      await mount.release();
      throw err;
    }
  }

  /** Writes to this instance's trace_marker (an ftrace:print record from this thread); throws when it cannot. */
  mark(): void {
    writeFileSync(path.join(this.dir, 'trace_marker'), 'imds-sniff-sync\n');
  }

  /** CLOCK_MONOTONIC in seconds, which trace_clock 'mono' stamps events with; null on another clock. */
  now(): number | null {
    return this.monoClock ? Number(process.hrtime.bigint()) / 1e9 : null;
  }

  /**
   * Opens every CPU's buffer; each later {@link drain} hands `onEvents` one page's events at a
   * time (each batch in that CPU's order). Call once. Throws when a buffer cannot be opened
   * (the finder then falls back to /proc and says why).
   */
  stream(onEvents: (events: TraceEvent[]) => void): void {
    if (this.onEvents !== null || this.closing) throw new Error('tracefs instance already streaming or closed');
    this.onEvents = onEvents;
    try {
      const cpus = readdirSync(path.join(this.dir, 'per_cpu'))
        .map((name) => /^cpu(\d+)$/.exec(name)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number)
        .sort((a, b) => a - b);
      if (cpus.length === 0) throw new Error(`${this.dir}/per_cpu lists no CPU`);
      const size = pageSize(this.decoding.page);
      this.readBuffer = Buffer.alloc(size);
      for (const cpu of cpus) {
        const fd = openSync(path.join(this.dir, 'per_cpu', `cpu${cpu}`, 'trace_pipe_raw'), constants.O_RDONLY | constants.O_NONBLOCK);
        const pages = new PageStream(size, (page) => {
          const events = eventsOfPage(page, cpu, this.decoding);
          if (events.length > 0) this.onEvents?.(events);
        });
        this.files.set(cpu, { fd, pages });
      }
      this.cpus = cpus;
    } catch (err) {
      this.closeFiles();
      throw err;
    }
  }

  /**
   * Reads every CPU's buffer now, synchronously, until the kernel says it is empty (EAGAIN):
   * when it returns `complete`, every event committed before the call has gone to `onEvents`.
   * Not complete: a CPU gave MAX_PAGES_PER_DRAIN pages and may hold more (a flood; the next
   * drain goes on), or a read failed, which ends the stream (`failure`). `pages`: pages read.
   */
  drain(): { complete: boolean; pages: number } {
    const buffer = this.readBuffer;
    if (this.closing || this.failure !== null || buffer === null) return { complete: false, pages: 0 };
    let complete = true;
    let pages = 0;
    // An empty buffer answers EAGAIN, which Node throws: without a stack trace it costs far less.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (const [cpu, file] of this.files) {
        let emptied = false;
        for (let n = 0; n < MAX_PAGES_PER_DRAIN; n++) {
          let got: number;
          try {
            got = readSync(file.fd, buffer, 0, buffer.length, null);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
              emptied = true;
              break;
            }
            this.failure = `cpu${cpu} trace_pipe_raw: ${(err as Error).message}`;
            return { complete: false, pages };
          }
          if (got === 0) {
            emptied = true;
            break;
          }
          pages++;
          // The page is decoded before the next read reuses the buffer (PageStream copies a partial one).
          file.pages.push(buffer.subarray(0, got));
        }
        complete &&= emptied;
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    return { complete, pages };
  }

  /** The per-CPU files must be closed for the instance directory to go. */
  private closeFiles(): void {
    for (const { fd } of this.files.values()) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    this.files.clear();
  }

  /** Closes the per-CPU files, disables the events, removes the instance, unmounts if we mounted. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      process.removeListener('exit', this.exitHook);
      this.closeFiles();
      for (const e of this.enabled) await writeFile(path.join(this.dir, 'events', e, 'enable'), '0').catch(() => {});
      try {
        await removeInstanceDir(this.dir);
      } finally {
        // Release the mount even when the instance would not go: a leftover instance is removed by the next start.
        await this.mount.release().catch(() => {});
      }
    })().catch(() => {
      // Cleanup is best effort: a run that captured fine must not fail on it.
    });
    return this.closing;
  }

  /** Best effort from a process 'exit' handler, which cannot await. */
  private closeSync(): void {
    if (this.closing) return;
    this.closing = Promise.resolve();
    this.closeFiles();
    for (const e of this.enabled) {
      try {
        writeFileSync(path.join(this.dir, 'events', e, 'enable'), '0');
      } catch {
        // Instance already gone.
      }
    }
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 100; i++) {
      try {
        rmdirSync(this.dir);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY') break;
        Atomics.wait(pause, 0, 0, 10); // another holder of the instance (a tracing tool) may let go
      }
    }
    this.mount.releaseSync();
  }
}

/** rmdir, retried while something still holds the instance (EBUSY) for up to ~2 s. */
async function removeInstanceDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 40) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Instances left by a killed imds-sniff (its pid no longer runs) are removed, best effort. */
async function removeStaleInstances(root: string): Promise<void> {
  let names: string[] = [];
  try {
    names = await readdir(path.join(root, 'instances'));
  } catch {
    return;
  }
  for (const name of names) {
    const m = new RegExp(`^${INSTANCE_PREFIX}(\\d+)-[0-9a-f]+$`).exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    await rmdir(path.join(root, 'instances', name)).catch(() => {});
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
