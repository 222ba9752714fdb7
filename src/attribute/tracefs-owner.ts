// SocketOwnerFinder 'tracefs' (primary): who called connect(), from sock/sched tracepoints.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeCgroups } from './container.js';
import { ExpiringMap } from './expiring-map.js';
import { normalizeIp } from '../decode/ip-address.js';
import {
  captureVolatile,
  capturedAlive,
  readAncestors,
  readProcessSnapshot,
  readTgid,
  type ProcessSnapshot,
  type ProcOptions,
  type VolatileProcFiles,
} from './process-info.js';
import { parseCgroup, parseCmdline, parseNsLink, parseStatus, stripDeleted } from './proc-parsers.js';
import { userNamesFor } from './users.js';
import { isConnectTransition, SocketStateIndex, type ConnectRecord } from './socket-state-index.js';
import { parseTraceLine, type SockStateEvent, type TraceEvent } from './trace-line.js';
import { TracefsInstance, type TracefsInstanceOptions } from './tracefs-instance.js';
import { unknownProcess, type ProcessInfo, type SocketKey, type SocketOwnerFinder } from './types.js';

/** Linux TASK_COMM_LEN - 1: exec sets comm to the first 15 bytes of the file name. */
const COMM_MAX = 15;

/** Where trace lines come from: a TracefsInstance, or recorded lines in tests. */
export interface TraceLineSource {
  readonly notes: string[];
  readonly failure: string | null;
  /** Delivers lines in the batches they were read in. */
  stream(onLines: (lines: string[]) => void): void;
  /** Writes to the instance's trace_marker: its line comes out after every event before it. */
  mark?(): void;
  close(): Promise<void>;
}

/** Options for {@link TracefsOwnerFinder}. */
export interface TracefsOwnerOptions extends ProcOptions, TracefsInstanceOptions {
  /** Replaces the tracefs instance (tests replay fixtures/proc/trace through it). */
  openSource?: () => Promise<TraceLineSource>;
  /** Connection records are forgotten after this; default 30 s. */
  expiryMs?: number;
  /** Cap on each bounded map; default 10 000. */
  maxEntries?: number;
  /** How long a closed connection still answers; default 5 s. */
  closedGraceMs?: number;
  /** A process snapshot is reused for later connects of the same pid this long; default 1 s. */
  snapshotTtlMs?: number;
}

/** Counters for `doctor` and tests. */
export interface TracefsOwnerStats {
  lines: number;
  connects: number;
  /** Connect lines printed with `(-------)`: the kernel had not recorded the tgid yet. */
  connectsWithoutTgid: number;
  /** Connect lines printed with `<...>`: comm not in saved_cmdlines (yet). */
  connectsWithoutComm: number;
  lostEvents: number;
  /** Lookups answered from a live /proc snapshot. */
  resolved: number;
  /** Lookups answered from trace data because the process had exited first. */
  exited: number;
  timedOut: number;
}

/** One process as captured at its connect(): the volatile files first, the rest after. */
interface Capture {
  pid: number;
  volatile: VolatileProcFiles;
  snapshot: Promise<ProcessSnapshot | null> | null;
}

/** Made at CLOSE → SYN_SENT, while the caller is (usually) still inside connect(). */
interface ConnectPayload {
  capture: Capture;
  exec: string | undefined;
  parentPid: number | undefined;
}

interface Waiter {
  key: SocketKey;
  settle: (record: ConnectRecord<ConnectPayload> | null) => void;
}

/**
 * Reads sock:inet_sock_set_state (filtered to the IMDS port in the kernel) plus
 * sched_process_exec/fork from a private tracefs instance. The connecting process's /proc
 * entry is captured the moment its CLOSE → SYN_SENT line arrives, before a short-lived
 * client can exit; find() resolves as soon as a later transition of the same socket reveals
 * the source port. When /proc was already gone, pid and comm (plus exe from the exec
 * event, ppid from the fork event) are returned with attribution 'exited'.
 */
export class TracefsOwnerFinder implements SocketOwnerFinder {
  readonly method = 'tracefs' as const;
  /** Global changes made and optional features missing (for the start-up line and doctor). */
  readonly notes: string[] = [];
  readonly stats: TracefsOwnerStats = { lines: 0, connects: 0, connectsWithoutTgid: 0, connectsWithoutComm: 0, lostEvents: 0, resolved: 0, exited: 0, timedOut: 0 };
  private readonly index: SocketStateIndex<ConnectPayload>;
  private readonly execs: ExpiringMap<number, string>;
  private readonly parents: ExpiringMap<number, number>;
  private readonly captures: ExpiringMap<number, Capture>;
  private readonly waiters = new Set<Waiter>();
  /** trace_marker writes made and their lines read: a barrier is passed when read ≥ its number. */
  private marks = { written: 0, read: 0 };
  private readonly markWaiters = new Set<{ n: number; pass: () => void }>();
  private source: TraceLineSource | null = null;
  private closed = false;

  constructor(private readonly opts: TracefsOwnerOptions = {}) {
    const maxEntries = opts.maxEntries ?? 10_000;
    this.index = new SocketStateIndex({ expiryMs: opts.expiryMs, maxEntries, closedGraceMs: opts.closedGraceMs });
    this.execs = new ExpiringMap({ ttlMs: 60_000, maxEntries: maxEntries * 2 });
    this.parents = new ExpiringMap({ ttlMs: 60_000, maxEntries: maxEntries * 2 });
    this.captures = new ExpiringMap({ ttlMs: opts.snapshotTtlMs ?? 1_000, maxEntries });
  }

  /** Creates the tracefs instance and starts reading; throws (with what is missing) if it cannot. */
  async start(): Promise<void> {
    if (this.source) return;
    if (this.closed) throw new Error('tracefs finder already closed');
    this.source = await (this.opts.openSource?.() ?? TracefsInstance.create(this.opts));
    this.notes.push(...this.source.notes);
    this.source.stream((lines) => this.onLines(lines));
  }

  /** Why the event stream stopped, if it did. */
  get failure(): string | null {
    return this.source?.failure ?? null;
  }

  /** Resolves when the socket's owner is known, or with 'unknown' after `timeoutMs`. */
  async find(key: SocketKey, timeoutMs: number): Promise<ProcessInfo> {
    const k: SocketKey = { ...key, srcIp: normalizeIp(key.srcIp), dstIp: normalizeIp(key.dstIp) };
    let record = this.index.lookup(k, performance.now());
    if (record?.closedAtMs != null) {
      // A closed connection on this tuple may be an older one, and the connect of the one
      // asked about (the port reused at once) not read yet: read the trace up to now first.
      await this.readUpToNow(timeoutMs);
      record = this.index.lookup(k, performance.now());
    }
    if (!record && !this.closed) {
      record = await new Promise<ConnectRecord<ConnectPayload> | null>((resolve) => {
        const waiter: Waiter = {
          key: k,
          settle: (r) => {
            clearTimeout(timer);
            this.waiters.delete(waiter);
            resolve(r);
          },
        };
        const timer = setTimeout(() => waiter.settle(this.index.lookup(k, performance.now())), timeoutMs);
        this.waiters.add(waiter);
      });
    }
    if (!record) {
      this.stats.timedOut++;
      return unknownProcess();
    }
    const info = await this.describe(record);
    if (info.attribution === 'exited') this.stats.exited++;
    else this.stats.resolved++;
    return info;
  }

  /**
   * Resolves once the reader has read past a trace_marker written now, so every event
   * before this moment is in the index; at `timeoutMs` at the latest, or at once when the
   * source has no marker.
   */
  private readUpToNow(timeoutMs: number): Promise<void> {
    if (this.source?.mark === undefined || this.closed) return Promise.resolve();
    const n = ++this.marks.written;
    return new Promise((resolve) => {
      const waiter = {
        n,
        pass: () => {
          clearTimeout(timer);
          this.markWaiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.pass, timeoutMs);
      this.markWaiters.add(waiter);
      try {
        this.source?.mark?.();
      } catch {
        waiter.pass(); // no marker: answer with what is known
      }
    });
  }

  /** Stops the reader and removes the instance; pending find() calls resolve 'unknown'. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.markWaiters]) w.pass();
    for (const w of [...this.waiters]) w.settle(null);
    await this.source?.close();
  }

  /**
   * Two passes per batch: first capture the volatile /proc files of every process that
   * connected in this batch (they vanish at exit), then apply the events in order.
   */
  private onLines(lines: string[]): void {
    const now = performance.now();
    const events: TraceEvent[] = [];
    for (const line of lines) {
      this.stats.lines++;
      const ev = parseTraceLine(line);
      if (ev) events.push(ev);
    }
    const captured = new Map<SockStateEvent, Capture>();
    for (const ev of events) {
      // A new program or a reused pid makes an earlier capture of that pid stale.
      if (ev.kind === 'exec') this.captures.delete(ev.pid);
      else if (ev.kind === 'fork') this.captures.delete(ev.childPid);
      else if (ev.kind === 'sock-state' && isConnectTransition(ev)) captured.set(ev, this.capture(ev, now));
    }
    let changed = false;
    for (const ev of events) {
      switch (ev.kind) {
        case 'mark':
          if (ev.tid === process.pid) this.marks.read++;
          break;
        case 'lost':
          this.stats.lostEvents += ev.count;
          break;
        case 'exec':
          this.execs.set(ev.pid, ev.filename, now);
          break;
        case 'fork':
          this.parents.set(ev.childPid, ev.tgid ?? ev.parentPid, now);
          break;
        case 'sock-state': {
          const update = this.index.apply(ev, now, (e) => this.payload(e, captured.get(e), now));
          if (update.connected) {
            this.stats.connects++;
            if (ev.tgid === null) this.stats.connectsWithoutTgid++;
            if (ev.comm === null) this.stats.connectsWithoutComm++;
          }
          changed ||= update.changed;
        }
      }
    }
    if (changed) this.wakeWaiters(now);
    for (const w of [...this.markWaiters]) if (this.marks.read >= w.n) w.pass();
  }

  /** The volatile files of the connecting process (reused for a pid seen within snapshotTtlMs). */
  private capture(ev: SockStateEvent, now: number): Capture {
    // Without a tgid (`(-------)`: the task was not switched out yet when the line was
    // formatted) /proc/<tid>/status names the process; any thread's /proc/<tid> is readable.
    const pid = ev.tgid ?? readTgid(ev.tid, this.opts) ?? ev.tid;
    const cached = this.captures.get(pid, now);
    if (cached) return cached;
    const fresh: Capture = { pid, volatile: captureVolatile(pid, this.opts), snapshot: null };
    this.captures.set(pid, fresh, now);
    return fresh;
  }

  private payload(ev: SockStateEvent, early: Capture | undefined, now: number): ConnectPayload {
    const capture = early ?? this.capture(ev, now);
    capture.snapshot ??= readProcessSnapshot(capture.pid, this.opts, capture.volatile);
    return { capture, exec: this.execs.get(capture.pid, now), parentPid: this.parents.get(capture.pid, now) };
  }

  private wakeWaiters(now: number): void {
    for (const w of [...this.waiters]) {
      const record = this.index.lookup(w.key, now);
      if (record) w.settle(record);
    }
  }

  /** ProcessInfo from what /proc showed at connect time, completed from the trace where it had gone. */
  private async describe(record: ConnectRecord<ConnectPayload>): Promise<ProcessInfo> {
    const { capture, exec, parentPid } = record.payload;
    const snap = await capture.snapshot;
    const alive = capturedAlive(capture.volatile);
    const execComm = exec ? path.basename(exec).slice(0, COMM_MAX) : null;
    if (snap) {
      return {
        ...snap.info,
        exe: snap.info.exe ?? exec ?? null,
        attribution: alive ? 'tracefs' : 'exited',
      };
    }
    // stat was gone: keep what the early capture got. An exec seen before connect() names
    // the program more reliably than the cached comm, which can be stale (pre-exec) or a thread's.
    const v = capture.volatile;
    const cgroups = v.cgroup === null ? null : describeCgroups(parseCgroup(v.cgroup));
    const status = v.status === null ? null : parseStatus(v.status);
    const ppid = parentPid ?? status?.ppid ?? null;
    const users = this.opts.users ?? userNamesFor(this.opts.hostRoot);
    return {
      ...unknownProcess(),
      pid: capture.pid,
      ppid,
      comm: execComm ?? record.comm,
      exe: v.exe !== null ? stripDeleted(v.exe) : (exec ?? null),
      cmdline: v.cmdline === null ? null : parseCmdline(v.cmdline),
      uid: status?.uid ?? null,
      user: status?.uid == null ? null : await users.name(status.uid),
      netns: v.netns === null ? null : parseNsLink(v.netns),
      cgroup: cgroups?.path ?? null,
      containerId: cgroups?.containerId ?? null,
      ancestors: ppid === null ? [] : readAncestors(ppid, this.opts),
      attribution: 'exited',
    };
  }
}
