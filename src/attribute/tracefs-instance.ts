// A private tracefs instance streaming sock/sched events through a `cat trace_pipe` child.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmdirSync, writeFileSync } from 'node:fs';
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import path from 'node:path';
import { acquireTracefs, type TracefsMount } from './tracefs-mount.js';

const SOCK_EVENT = 'events/sock/inet_sock_set_state';
const EXEC_EVENT = 'events/sched/sched_process_exec';
const FORK_EVENT = 'events/sched/sched_process_fork';
/** Fields the finder reads; without them the event cannot be joined or filtered. */
const REQUIRED_SOCK_FIELDS = ['skaddr', 'oldstate', 'newstate', 'sport', 'dport', 'family', 'saddr', 'daddr'];
const INSTANCE_PREFIX = 'imds-sniff-';
/** Nice value of the trace_pipe reader. */
const READER_NICE = -10;

/** Options for {@link TracefsInstance.create}. */
export interface TracefsInstanceOptions {
  /** Only connections to this port are traced (the filter runs in the kernel); default 80. */
  dstPort?: number;
  /** saved_cmdlines_size is raised to at least this (it is global and only ever grown); default 8192. */
  minSavedCmdlines?: number;
  /** Mount table to look for tracefs in; default /proc/self/mounts. */
  mountsPath?: string;
}

/** What the kernel offers, checked before anything is created. */
export interface TracefsSupport {
  missing: string[];
  hasProtocolField: boolean;
  hasRecordTgid: boolean;
  hasExecEvent: boolean;
  hasForkEvent: boolean;
}

/** Checks the event, field and option names the finder needs exist under `root`. */
export async function checkTracefsSupport(root: string): Promise<TracefsSupport> {
  const exists = (p: string): Promise<boolean> => access(path.join(root, p)).then(() => true, () => false);
  const missing: string[] = [];
  let fields: string[] = [];
  try {
    const format = await readFile(path.join(root, SOCK_EVENT, 'format'), 'utf8');
    fields = [...format.matchAll(/field:[^;]*?\b(\w+)(?:\[\d*\])?;/g)].map((m) => m[1] ?? '');
  } catch {
    missing.push(`event sock:inet_sock_set_state (${SOCK_EVENT})`);
  }
  if (fields.length > 0) {
    for (const f of REQUIRED_SOCK_FIELDS) if (!fields.includes(f)) missing.push(`field inet_sock_set_state.${f}`);
  }
  if (!(await exists('instances'))) missing.push('instances/ directory (kernel without tracefs instances)');
  if (!(await exists('options/fields'))) missing.push("trace option 'fields' (needed to print skaddr; Linux ≥ 6.6?)");
  return {
    missing,
    hasProtocolField: fields.includes('protocol'),
    hasRecordTgid: await exists('options/record-tgid'),
    hasExecEvent: await exists(EXEC_EVENT),
    hasForkEvent: await exists(FORK_EVENT),
  };
}

/**
 * One private instance (`instances/imds-sniff-<pid>-<rand>`): its own ring buffer, filter
 * and options, so other tracing users are not disturbed. Lines are read by a spawned
 * `cat` because a blocking fs read of trace_pipe would pin a libuv thread and cannot be
 * cancelled; killing cat is what lets the instance be removed.
 */
export class TracefsInstance {
  /** Human-readable notes about global changes and missing optional features. */
  readonly notes: string[] = [];
  private cat: ChildProcess | null = null;
  private closing: Promise<void> | null = null;
  private readonly exitHook = (): void => this.closeSync();
  /** Set when the cat child ended without close() (the stream is dead). */
  failure: string | null = null;

  private constructor(
    private readonly mount: TracefsMount,
    /** Absolute instance directory. */
    readonly dir: string,
    /** True when lines carry the process id (tgid) next to the thread id. */
    readonly recordTgid: boolean,
    private readonly enabled: string[],
  ) {}

  /** Creates and configures the instance; throws with what is missing if the kernel cannot. */
  static async create(opts: TracefsInstanceOptions = {}): Promise<TracefsInstance> {
    const mount = await acquireTracefs(opts.mountsPath);
    const notes: string[] = [];
    let dir: string | null = null;
    try {
      const support = await checkTracefsSupport(mount.root);
      if (support.missing.length > 0) {
        throw new Error(`tracefs at ${mount.root} lacks ${support.missing.join(', ')}`);
      }
      if (mount.mountedByUs) notes.push(`mounted tracefs at ${mount.root}`);
      await removeStaleInstances(mount.root);
      notes.push(...(await ensureSavedCmdlines(mount.root, opts.minSavedCmdlines ?? 8192)));

      const instanceDir = path.join(mount.root, 'instances', `${INSTANCE_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`);
      await mkdir(instanceDir);
      dir = instanceDir;
      const set = (file: string, value: string): Promise<void> => writeFile(path.join(instanceDir, file), value);
      const port = opts.dstPort ?? 80;
      const filter = support.hasProtocolField ? `dport == ${port} && protocol == 6` : `dport == ${port}`;
      await set(`${SOCK_EVENT}/filter`, filter).catch((cause: unknown) => {
        throw new Error(`tracefs rejected filter '${filter}' on inet_sock_set_state`, { cause });
      });
      await set('options/fields', '1');
      if (support.hasRecordTgid) await set('options/record-tgid', '1');
      else notes.push('record-tgid unavailable: process ids come from /proc/<tid>/status');
      const enabled = [SOCK_EVENT];
      if (support.hasExecEvent) enabled.push(EXEC_EVENT);
      else notes.push('sched_process_exec unavailable: exited processes get no exe');
      if (support.hasForkEvent) enabled.push(FORK_EVENT);
      else notes.push('sched_process_fork unavailable: exited processes get no ppid');
      for (const e of enabled) await set(`${e}/enable`, '1');

      const instance = new TracefsInstance(mount, instanceDir, support.hasRecordTgid, enabled);
      instance.notes.push(...notes);
      process.once('exit', instance.exitHook);
      return instance;
    } catch (err) {
      if (dir) await removeInstanceDir(dir).catch(() => {});
      await mount.release();
      throw err;
    }
  }

  /** Writes to this instance's trace_marker (see TraceLineSource.mark); throws when it cannot. */
  mark(): void {
    writeFileSync(path.join(this.dir, 'trace_marker'), 'imds-sniff-sync\n');
  }

  /** Starts streaming trace_pipe; `onLines` gets the complete lines of each read. Call once. */
  stream(onLines: (lines: string[]) => void): void {
    if (this.cat || this.closing) throw new Error('tracefs instance already streaming or closed');
    // setpriv --pdeathsig: if this process is SIGKILLed, the reader dies too instead of
    // holding the instance open until its next write hits the closed pipe.
    const pipe = path.join(this.dir, 'trace_pipe');
    const [cmd, args] = hasSetpriv() ? ['setpriv', ['--pdeathsig', 'KILL', '--', 'cat', pipe]] : ['cat', [pipe]];
    const cat = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.cat = cat;
    let rest = '';
    cat.stdout?.setEncoding('utf8');
    cat.stdout?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      if (lines.length > 0) onLines(lines);
    });
    // The reader only sleeps in read(2), so a better nice costs nothing idle, but under a burst
    // of short-lived clients it gets the lines out before they exit. Best effort (needs root).
    try {
      if (cat.pid !== undefined) setPriority(cat.pid, READER_NICE);
    } catch {
      // Not permitted: default priority.
    }
    let stderr = '';
    cat.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    cat.on('error', (err) => (this.failure = `cannot run cat: ${err.message}`));
    cat.on('exit', (code, signal) => {
      if (!this.closing) this.failure = `trace_pipe reader exited (${signal ?? code}) ${stderr.trim()}`.trim();
    });
  }

  /** Stops the reader, disables the events, removes the instance, unmounts if we mounted. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      process.removeListener('exit', this.exitHook);
      const cat = this.cat;
      if (cat && cat.exitCode === null && cat.signalCode === null) {
        const exited = new Promise<void>((resolve) => cat.once('exit', () => resolve()));
        cat.kill('SIGTERM');
        const timer = setTimeout(() => cat.kill('SIGKILL'), 1_000);
        await exited;
        clearTimeout(timer);
      }
      for (const e of this.enabled) await writeFile(path.join(this.dir, e, 'enable'), '0').catch(() => {});
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
    this.cat?.kill('SIGKILL');
    for (const e of this.enabled) {
      try {
        writeFileSync(path.join(this.dir, e, 'enable'), '0');
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
        Atomics.wait(pause, 0, 0, 10); // cat holds trace_pipe until the SIGKILL lands
      }
    }
    this.mount.releaseSync();
  }
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

/**
 * The comm in each line comes from the kernel's saved_cmdlines cache, read when the line is
 * formatted; a small cache prints `<...>` under load. The size is global, so it is only
 * ever raised, never lowered back (lowering would also wipe other users' cache).
 */
async function ensureSavedCmdlines(root: string, min: number): Promise<string[]> {
  const file = path.join(root, 'saved_cmdlines_size');
  try {
    const current = Number((await readFile(file, 'utf8')).trim());
    if (current >= min) return [];
    await writeFile(file, String(min));
    return [`raised global saved_cmdlines_size from ${current} to ${min}`];
  } catch (err) {
    return [`could not raise saved_cmdlines_size: ${(err as Error).message}`];
  }
}
