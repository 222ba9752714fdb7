// A private tracefs instance whose per-CPU ring buffers are read raw and decoded with the kernel's own layouts.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import path from 'node:path';
import { acquireTracefs, type TracefsMount } from './mount.js';
import { decodeTracePage, pageSize, type PageDecoding } from './page-events.js';
import { PageStream } from './page-stream.js';
import { createRecordDecoder } from './record-decoder.js';
import { checkTracefsSupport, TRACE_EVENTS } from './support.js';
import type { TraceEvent, TraceEventSource } from './trace-events.js';

const INSTANCE_PREFIX = 'imds-sniff-';
/** A CPU's reader that ends more often than this within the window is a dead stream, not a blip. */
const READER_RESTARTS_MAX = 20;
const READER_RESTART_WINDOW_MS = 10_000;

/** Nice value of the ring-buffer readers. */
const READER_NICE = -10;
/** Per-CPU ring buffer size asked for; the kernel default (~1.4 MiB per CPU) is more than the filtered events need. */
const BUFFER_KB = 512;

/** Options for {@link TracefsInstance.create}. */
export interface TracefsInstanceOptions {
  /** Only connections to this port are traced (the filter runs in the kernel); default 80. */
  dstPort?: number;
  /** Mount table to look for tracefs in; default /proc/self/mounts. */
  mountsPath?: string;
}

/**
 * One private instance (`instances/imds-sniff-<pid>-<rand>`): its own ring buffers, filter
 * and clock, so other tracing users are not disturbed. Each CPU's `trace_pipe_raw` is read
 * by a spawned `cat`, because a blocking fs read would pin a libuv thread and cannot be
 * cancelled; killing the readers is what lets the instance be removed. The pages are
 * decoded here with the layouts the running kernel publishes (events/header_page,
 * header_event and each event's format), so no kernel version is assumed.
 */
export class TracefsInstance implements TraceEventSource {
  /** Human-readable notes about optional features missing and settings not applied. */
  readonly notes: string[] = [];
  /** Set when a reader ended without close() (the stream is dead). */
  failure: string | null = null;
  /** Readers started again after a read(2) of 0 bytes on a live instance. */
  readerRestarts = 0;
  /** Each CPU's current reader (a restarted one replaces the one that ended). */
  private readonly readers = new Map<number, ChildProcess>();
  /** The CPUs whose buffers are read, once the readers run. */
  cpus: readonly number[] = [];
  /** Per CPU, the data records this process has received from its reader. */
  private readonly recordsReceived = new Map<number, number>();
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

  /**
   * Events committed to `cpu`'s buffer that have not reached this process yet: those still in
   * the buffer ("entries" in per_cpu/cpuN/stats) plus those its reader took ("read events")
   * but had not passed on (a `cat` descheduled between its read and its write). Null if the
   * stats cannot be read.
   */
  pendingEvents(cpu: number): number | null {
    try {
      const stats = readFileSync(path.join(this.dir, 'per_cpu', `cpu${cpu}`, 'stats'), 'latin1');
      const entries = /^entries: (\d+)$/m.exec(stats);
      const read = /^read events: (\d+)$/m.exec(stats);
      if (!entries || !read) return null;
      return Math.max(0, Number(entries[1]) + Number(read[1]) - (this.recordsReceived.get(cpu) ?? 0));
    } catch {
      return null;
    }
  }

  /** CLOCK_MONOTONIC in seconds, which trace_clock 'mono' stamps events with; null on another clock. */
  now(): number | null {
    return this.monoClock ? Number(process.hrtime.bigint()) / 1e9 : null;
  }

  /** Starts one reader per CPU; `onEvents` gets each page's events. Call once. */
  stream(onEvents: (events: TraceEvent[]) => void): void {
    if (this.readers.size > 0 || this.closing) throw new Error('tracefs instance already streaming or closed');
    void this.startReaders(onEvents).catch((err: unknown) => (this.failure = `cannot start the ring-buffer readers: ${(err as Error).message}`));
  }

  private async startReaders(onEvents: (events: TraceEvent[]) => void): Promise<void> {
    const cpus = (await readdir(path.join(this.dir, 'per_cpu')))
      .map((name) => /^cpu(\d+)$/.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    if (cpus.length === 0) throw new Error(`${this.dir}/per_cpu lists no CPU`);
    if (this.closing) return;
    for (const cpu of cpus) this.readers.set(cpu, this.startReader(cpu, onEvents));
    this.cpus = cpus;
  }

  private startReader(cpu: number, onEvents: (events: TraceEvent[]) => void): ChildProcess {
    const pages = new PageStream(pageSize(this.decoding.page), (page) => {
      const { events, records } = decodeTracePage(page, cpu, this.decoding);
      this.recordsReceived.set(cpu, (this.recordsReceived.get(cpu) ?? 0) + records);
      if (events.length > 0) onEvents(events);
    });
    return this.spawnReader(cpu, pages, []);
  }

  /**
   * One `cat` of the CPU's trace_pipe_raw. A read(2) there can return 0 while the instance is
   * alive, which ends `cat` with status 0: from 6.8 the kernel wakes a reader that way when any
   * holder of the same open file closes it (seen once under a full test run; a close of a
   * pidfd_getfd duplicate reproduces it). Nothing is lost, the pages stay in the ring buffer,
   * so a new reader carries on. Only a reader that keeps ending (more than READER_RESTARTS_MAX in READER_RESTART_WINDOW_MS)
   * or fails is the end of the stream.
   */
  private spawnReader(cpu: number, pages: PageStream, restarts: number[]): ChildProcess {
    const file = path.join(this.dir, 'per_cpu', `cpu${cpu}`, 'trace_pipe_raw');
    // setpriv --pdeathsig: if this process is SIGKILLed, the reader dies too instead of
    // holding the instance open.
    const [cmd, args] = readerCommand(file);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => pages.push(chunk));
    // The readers only sleep in read(2), so a better nice costs nothing idle, but under a burst
    // of short-lived clients they get the records out before the clients exit. Best effort.
    try {
      if (child.pid !== undefined) setPriority(child.pid, READER_NICE);
    } catch {
      // Not permitted: default priority.
    }
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    child.on('error', (err) => (this.failure = `cannot run the ring-buffer reader ${cmd}: ${err.message}`));
    // 'close', not 'exit': every page the reader wrote has been pushed by then.
    child.on('close', (code, signal) => {
      if (this.closing || this.failure) return;
      const now = performance.now();
      const recent = restarts.filter((t) => now - t < READER_RESTART_WINDOW_MS);
      if (code === 0 && recent.length < READER_RESTARTS_MAX) {
        this.readerRestarts++;
        try {
          this.readers.set(cpu, this.spawnReader(cpu, pages, [...recent, now]));
        } catch (err) {
          this.failure = `cpu${cpu} trace_pipe_raw reader could not be started again: ${(err as Error).message}`;
        }
        return;
      }
      const again = code === 0 ? ` (ended ${recent.length + 1} times in ${READER_RESTART_WINDOW_MS / 1000} s)` : '';
      this.failure = `cpu${cpu} trace_pipe_raw reader exited (${signal ?? code})${again} ${stderr.trim()}`.trim();
    });
    return child;
  }

  /** Stops the readers, disables the events, removes the instance, unmounts if we mounted. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      process.removeListener('exit', this.exitHook);
      await Promise.all([...this.readers.values()].map(stopChild));
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
    for (const r of this.readers.values()) r.kill('SIGKILL');
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
        Atomics.wait(pause, 0, 0, 10); // a reader holds its file until the SIGKILL lands
      }
    }
    this.mount.releaseSync();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 1_000);
  await exited;
  clearTimeout(timer);
}

/** rmdir, retried while a reader still holds the instance (EBUSY) for up to ~2 s. */
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

let setprivAvailable: boolean | undefined;
/**
 * How one CPU's trace_pipe_raw is read: by the static reader the single binary ships beside its
 * executable (packaging/binary/trace-reader.c; it sets its own parent-death signal), else by `cat`
 * under `setpriv --pdeathsig` where setpriv exists. A FROM-scratch image has neither cat nor setpriv.
 */
function readerCommand(file: string): [string, string[]] {
  bundledReader ??= isExecutable(BUNDLED_READER) ? BUNDLED_READER : null;
  if (bundledReader !== null) return [bundledReader, [file, String(process.pid)]];
  return hasSetpriv() ? ['setpriv', ['--pdeathsig', 'KILL', '--', 'cat', file]] : ['cat', [file]];
}
const BUNDLED_READER = path.join(path.dirname(process.execPath), 'imds-sniff-trace-reader');
let bundledReader: string | null | undefined;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function hasSetpriv(): boolean {
  setprivAvailable ??= spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;
  return setprivAvailable;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
