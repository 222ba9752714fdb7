// SocketOwnerFinder 'tracefs' (primary): who called connect(), from sock/sched tracepoints.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { containerIdFromCgroup, describeCgroups } from './container.js';
import { ExpiringMap } from './expiring-map.js';
import { normalizeIp } from '../decode/ip-address.js';
import {
  captureStatus,
  captureVolatile,
  capturedAlive,
  describeProcess,
  readProcessSnapshot,
  readTgid,
  type ProcessSnapshot,
  type ProcOptions,
  type VolatileProcFiles,
} from './process-info.js';
import { innermostNsPid, parseStatus, type CgroupEntry } from './proc-parsers.js';
import { isConnectTransition, SocketStateIndex, type AskedAt, type ConnectRecord } from './socket-state-index.js';
import { TracefsInstance, type TracefsInstanceOptions } from './tracefs/instance.js';
import { ReorderBuffer } from './tracefs/reorder-buffer.js';
import type { SockStateEvent, TraceEvent, TraceEventSource } from './tracefs/trace-events.js';
import { unknownProcess, type AttributionCounters, type LookupHint, type ProcessInfo, type SocketKey, type SocketOwnerFinder } from './types.js';

/** Linux TASK_COMM_LEN - 1: exec sets comm to the first 15 bytes of the file name. */
const COMM_MAX = 15;

/**
 * How long a lookup whose time is up may still wait for the reader to catch up. A timer that
 * expires during an event-loop stall runs before the pending reads (timers come first in
 * Node's loop), so the connect event may be sitting unread: a trace_marker written then and
 * read back proves the reader is past that moment, and a reader that is not lagging answers
 * within one reorder holdback.
 */
const CATCH_UP_MS = 2_000;
/** How often a catch-up looks again at the CPUs still behind. */
const CATCH_UP_POLL_MS = 5;

/**
 * The longest capture lag believed: a packet said to be older than this (a recorded file's
 * times, a clock step) is looked up as if captured now.
 */
const MAX_CAPTURE_LAG_MS = 30_000;

/** Lost trace events make misses worth a /proc look for this long. */
const LOSS_MEMORY_MS = 60_000;

/** Options for {@link TracefsOwnerFinder}. */
export interface TracefsOwnerOptions extends ProcOptions, TracefsInstanceOptions {
  /** Replaces the tracefs instance (tests replay recorded ring-buffer pages through it). */
  openSource?: () => Promise<TraceEventSource>;
  /** How long events wait for other CPUs' earlier ones before they are applied; default 10 ms. */
  reorderHoldbackMs?: number;
  /** Connection records are forgotten after this; default 30 s. */
  expiryMs?: number;
  /** Cap on each bounded map; default 10 000. */
  maxEntries?: number;
  /** How long a closed connection still answers; default 5 s. */
  closedGraceMs?: number;
  /**
   * A process snapshot is reused for later connects of the same pid this long; default 10 s. Its
   * exec or a fork that reuses the pid drops it at once; a short-lived caller whose last call comes
   * as it exits (the control CLI's verification) is still named from its first.
   */
  snapshotTtlMs?: number;
}

/** Counters for `doctor` and tests. */
export interface TracefsOwnerStats {
  /** Trace events decoded. */
  events: number;
  connects: number;
  /** Connects whose process was gone before /proc/<tid>/status could name it (the tid is used). */
  connectsWithoutTgid: number;
  lostEvents: number;
  /** Tasks whose container cgroup is known from cgroup_attach_task and fork inheritance. */
  trackedContainerTasks: number;
  /** Their in-container pids (NSpid) read when they entered the container or were forked there. */
  containerPidsRead: number;
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
  /** The process's last exec applied before its connect. */
  exec: ExecSeen | undefined;
  /** Kernel time of the connect: an exec applied later but from before it still names the process. */
  connectedAt: number;
  parentPid: number | undefined;
  /** The container cgroups tracked from tracepoints, if the task is in one. */
  containerCgroups: CgroupEntry[] | undefined;
  /** The in-container pid read while the process was young, if it is in a tracked container. */
  nsPid: number | undefined;
}

/**
 * What is known about a task, with the trace time of the event that said it. Events are
 * looked at as each CPU's batch arrives, not in kernel order: a child's own
 * cgroup_attach_task can arrive before the fork that made it, and the older fork must then
 * not undo it.
 */
interface Tracked<T> {
  value: T;
  timestamp: number;
}

/** Forks remembered per parent, for how long, and how many generations an attach that came late reaches. */
const FORKS_PER_PID = 8;
const FORKS_KEPT_MS = 5_000;
const FORK_DEPTH = 4;

/** Execs kept per pid: enough for a wrapper chain (sh → ip netns exec → curl) and one after. */
const EXECS_KEPT = 4;

/** The last of a pid's execs at or before kernel time t. */
function lastBefore(execs: ExecSeen[] | undefined, t: number): ExecSeen | undefined {
  return execs?.filter((e) => e.timestamp <= t).at(-1);
}

/** A program run by a pid, and when (kernel time). */
interface ExecSeen {
  filename: string;
  timestamp: number;
}

interface Waiter {
  key: SocketKey;
  /** When the packet asked about was captured. */
  at: AskedAt;
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
  readonly stats: TracefsOwnerStats = { events: 0, connects: 0, connectsWithoutTgid: 0, lostEvents: 0, trackedContainerTasks: 0, containerPidsRead: 0, resolved: 0, exited: 0, timedOut: 0 };
  private readonly index: SocketStateIndex<ConnectPayload>;
  /** Each pid's last few execs, oldest first. */
  private readonly execs: ExpiringMap<number, ExecSeen[]>;
  private readonly parents: ExpiringMap<number, number>;
  private readonly captures: ExpiringMap<number, Capture>;
  /** Thread names from fork (child_comm) and exec (file name): raw records carry no comm. */
  private readonly comms: ExpiringMap<number, string>;
  /**
   * The container cgroups of tasks in containers, per hierarchy id, from cgroup_attach_task
   * (a runtime moving a container's first process) and inherited at fork: a process that
   * exits before /proc is read still names its container.
   */
  private readonly containerCgroups: ExpiringMap<number, Tracked<CgroupEntry[]>>;
  /**
   * In-container pids (innermost NSpid) of tracked container tasks, read from
   * /proc/<pid>/status as their fork, exec or cgroup_attach_task event arrives: a client that
   * exits right after its request is usually reaped before its connect is read, but its fork
   * came a whole process lifetime earlier. No tracepoint carries a namespace pid.
   */
  private readonly containerPids: ExpiringMap<number, Tracked<number>>;
  /**
   * Each pid's recent forks as they arrived: a cgroup_attach_task, or the fork that made a task,
   * can arrive from one CPU after the forks that task made since on another (runc's init forks
   * its next stage within microseconds of being placed or made), and those children must still
   * join the container.
   */
  private readonly forks: ExpiringMap<number, Tracked<number>[]>;
  /** When each of those children was forked: a pid reused since is not the child any more. */
  private readonly bornAt: ExpiringMap<number, number>;
  private readonly reorder: ReorderBuffer;
  private readonly waiters = new Set<Waiter>();
  /** trace_marker writes made and their lines read: a barrier is passed when read ≥ its number. */
  private marks = { written: 0, read: 0 };
  /** Captures made on arrival, waiting for their event to be applied in order. */
  private readonly captured = new Map<SockStateEvent, Capture>();
  private readonly markWaiters = new Set<{ n: number; pass: () => void }>();
  private source: TraceEventSource | null = null;
  private closed = false;
  private lastLossAtMs = -Infinity;
  /** Per CPU, the kernel time of the newest event its reader has delivered. */
  private readonly delivered = new Map<number, number>();
  /** A running wait for every CPU's events up to a time (shared by callers asking for no later time). */
  private catchingUp: { t: number; done: Promise<void> } | null = null;

  constructor(private readonly opts: TracefsOwnerOptions = {}) {
    const maxEntries = opts.maxEntries ?? 10_000;
    this.index = new SocketStateIndex({ expiryMs: opts.expiryMs, maxEntries, closedGraceMs: opts.closedGraceMs });
    this.execs = new ExpiringMap({ ttlMs: 60_000, maxEntries: maxEntries * 2 });
    this.parents = new ExpiringMap({ ttlMs: 60_000, maxEntries: maxEntries * 2 });
    this.captures = new ExpiringMap({ ttlMs: opts.snapshotTtlMs ?? 10_000, maxEntries });
    this.comms = new ExpiringMap({ ttlMs: 60_000, maxEntries: maxEntries * 2 });
    // Long: a container's shell may start its client hours after it was placed; refreshed at each fork.
    this.containerCgroups = new ExpiringMap({ ttlMs: 24 * 3_600_000, maxEntries: maxEntries * 2 });
    // A process still alive at its connect is read then: this only has to outlive short-lived ones.
    this.containerPids = new ExpiringMap({ ttlMs: 600_000, maxEntries: maxEntries * 2 });
    // Only has to outlive the gap between two CPUs' pages (the reader drains them every few ms).
    this.forks = new ExpiringMap({ ttlMs: FORKS_KEPT_MS, maxEntries: maxEntries * 2 });
    this.bornAt = new ExpiringMap({ ttlMs: FORKS_KEPT_MS, maxEntries: maxEntries * 2 });
    this.reorder = new ReorderBuffer((events) => this.apply(events), { holdbackMs: opts.reorderHoldbackMs });
  }

  /** Creates the tracefs instance and starts reading; throws (with what is missing) if it cannot. */
  async start(): Promise<void> {
    if (this.source) return;
    if (this.closed) throw new Error('tracefs finder already closed');
    this.source = await (this.opts.openSource?.() ?? TracefsInstance.create(this.opts));
    this.notes.push(...this.source.notes);
    this.source.stream((events) => this.onEvents(events));
  }

  counters(): AttributionCounters {
    const s = this.stats;
    return { trace_events: s.events, trace_lost_events: s.lostEvents, connects_traced: s.connects, lookups_timed_out: s.timedOut, trace_reader_restarts: this.source?.readerRestarts ?? 0 };
  }

  /** True while events were lost in the last minute: a connection not found may be one of them. */
  missedRecently(): boolean {
    return performance.now() - this.lastLossAtMs <= LOSS_MEMORY_MS;
  }

  /** Why the event stream stopped, if it did. */
  get failure(): string | null {
    return this.source?.failure ?? null;
  }

  /** Resolves when the socket's owner is known, or with 'unknown' after `timeoutMs`. */
  async find(key: SocketKey, timeoutMs: number, hint?: LookupHint): Promise<ProcessInfo> {
    const k: SocketKey = { ...key, srcIp: normalizeIp(key.srcIp), dstIp: normalizeIp(key.dstIp) };
    // When the packet was captured: a capture that lags asks late (seen under qemu TCG: a pipeline
    // 10 s behind the trace), and the socket it saw may have closed, or its port been taken by a
    // newer one, meanwhile. Without a believable time, the question counts as asked now.
    const ago = hint?.capturedAgoMs;
    const believable = ago !== undefined && ago >= 0 && ago <= MAX_CAPTURE_LAG_MS;
    const kernelNow = believable ? (this.source?.now?.() ?? null) : null;
    const at: AskedAt = { askedAtMs: performance.now() - (believable ? ago : 0), askedTs: kernelNow === null || !believable ? null : kernelNow - ago / 1000 };
    let record = this.index.lookup(k, performance.now(), at);
    if (record?.closedAtMs != null) {
      // A closed connection on this tuple may be an older one, and the connect of the one
      // asked about (the port reused at once) not read yet: read the trace up to now first.
      await this.catchUp(this.source?.now?.() ?? null, timeoutMs);
      record = this.index.lookup(k, performance.now(), at);
    }
    if (!record && !this.closed) {
      record = await new Promise<ConnectRecord<ConnectPayload> | null>((resolve) => {
        const waiter: Waiter = {
          key: k,
          at,
          settle: (r) => {
            if (!this.waiters.has(waiter)) return;
            clearTimeout(timer);
            this.waiters.delete(waiter);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          void this.catchUp(this.source?.now?.() ?? null, CATCH_UP_MS).then(() => waiter.settle(this.index.lookup(k, performance.now(), at)));
        }, timeoutMs);
        this.waiters.add(waiter);
      });
    }
    const boundBy = record?.boundBy;
    if (record && boundBy && this.hasCpuStats()) {
      // A connect on this struct sock read late from another CPU would take this port from the
      // connection it reached first: answer once every CPU is past the transition that bound it.
      const first = record;
      await this.catchUp(boundBy.timestamp, CATCH_UP_MS);
      // Still its port: the answer stands, even if it closed meanwhile or a newer connect to
      // the same place would now hide it; otherwise whoever took the port, if anyone.
      const now = performance.now();
      record = this.index.holder(k, now) === first ? first : this.index.lookup(k, now, at);
    }
    if (!record) {
      this.stats.timedOut++;
      if (process.env.IMDS_SNIFF_DEBUG_ATTRIBUTION === '1') this.debugMiss(k, performance.now() - (at.askedAtMs ?? 0));
      return unknownProcess();
    }
    const info = await this.describe(record);
    if (info.attribution === 'exited') this.stats.exited++;
    else this.stats.resolved++;
    return info;
  }

  /**
   * Resolves once every CPU's events up to kernel time `t` have been applied, or after
   * `timeoutMs`. A CPU whose reader delivered an event after `t` is done; one behind is done
   * when the source says nothing committed there is still on its way (the kernel's count in
   * per_cpu stats against the records received). A trace_marker (the fallback when `t` is null
   * or the source has no such count) proves only this process's CPU: under load (qemu TCG, a
   * starved host) another CPU's reader can lag by seconds.
   */
  private catchUp(t: number | null, timeoutMs: number): Promise<void> {
    if (t === null || !this.hasCpuStats()) return this.readUpToNow(timeoutMs);
    if (this.catchingUp && this.catchingUp.t >= t) return this.catchingUp.done;
    const run = { t, done: this.waitDelivered(t, timeoutMs) };
    this.catchingUp = run;
    void run.done.finally(() => {
      if (this.catchingUp === run) this.catchingUp = null;
    });
    return run.done;
  }

  /** One stderr line on a lookup that found nothing (IMDS_SNIFF_DEBUG_ATTRIBUTION=1): what the index and readers held. */
  private debugMiss(key: SocketKey, askedAgoMs: number): void {
    const now = this.source?.now?.() ?? null;
    const cpus = Object.fromEntries([...this.delivered].map(([cpu, ts]) => [cpu, { behindS: now === null ? null : Math.round((now - ts) * 1000) / 1000, unread: this.source?.pendingEvents?.(cpu) ?? null }]));
    process.stderr.write(`imds-sniff: attribution-debug ${JSON.stringify({ key, nowTs: now, askedAgoMs: Math.round(askedAgoMs), cpus, index: this.index.explain(key, performance.now()) })}\n`);
  }

  /** Whether the source says how much each CPU's buffer still holds (a live instance does). */
  private hasCpuStats(): boolean {
    return this.source?.pendingEvents !== undefined && (this.source.cpus?.length ?? 0) > 0;
  }

  private async waitDelivered(t: number, timeoutMs: number): Promise<void> {
    const src = this.source;
    const deadline = performance.now() + timeoutMs;
    const cpus = src?.cpus ?? [];
    for (;;) {
      if (this.closed || !src?.pendingEvents) return;
      const behind = cpus.filter((cpu) => (this.delivered.get(cpu) ?? -Infinity) < t);
      if (behind.length === 0) break;
      if (behind.every((cpu) => (src.pendingEvents?.(cpu) ?? 0) === 0)) break;
      if (performance.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS));
    }
    this.reorder.releaseUpTo(t);
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
    this.reorder.close();
    for (const w of [...this.markWaiters]) w.pass();
    for (const w of [...this.waiters]) w.settle(null);
    await this.source?.close();
  }

  /**
   * As each CPU's batch arrives, the volatile /proc files of every process that connected in
   * it are captured at once (they vanish at exit); the events are then applied in kernel
   * time order, once other CPUs' earlier events have had time to arrive.
   */
  private onEvents(events: TraceEvent[]): void {
    const now = performance.now();
    this.stats.events += events.length;
    // A batch is one CPU's page, in time order: its last stamped event is how far that CPU has come.
    const last = events.findLast((ev) => 'cpu' in ev && ev.timestamp !== undefined);
    if (last && 'cpu' in last && last.timestamp !== undefined) this.delivered.set(last.cpu, Math.max(last.timestamp, this.delivered.get(last.cpu) ?? -Infinity));
    for (const ev of events) {
      switch (ev.kind) {
        case 'exec':
          // A new program or a reused pid makes an earlier capture of that pid stale.
          this.captures.delete(ev.pid);
          this.comms.set(ev.pid, path.basename(ev.filename).slice(0, COMM_MAX), now);
          if (ev.oldPid !== ev.pid) this.containerPids.delete(ev.oldPid);
          if (this.containerCgroups.get(ev.pid, now) && this.containerPids.get(ev.pid, now) === undefined) this.readContainerPid(ev.pid, ev.timestamp, now);
          break;
        case 'fork':
          this.captures.delete(ev.childPid);
          this.comms.set(ev.childPid, ev.childComm, now);
          this.forks.set(ev.parentPid, [...(this.forks.get(ev.parentPid, now) ?? []), { value: ev.childPid, timestamp: ev.timestamp }].slice(-FORKS_PER_PID), now);
          if ((this.bornAt.get(ev.childPid, now) ?? -Infinity) < ev.timestamp) this.bornAt.set(ev.childPid, ev.timestamp, now);
          // A reused pid: what was known about the task that had it before is not the child's.
          if ((this.containerPids.get(ev.childPid, now)?.timestamp ?? Infinity) < ev.timestamp) this.containerPids.delete(ev.childPid);
          if (this.inheritCgroups(ev.parentPid, ev.childPid, ev.timestamp, now)) {
            if (this.containerPids.get(ev.childPid, now) === undefined) this.readContainerPid(ev.childPid, ev.timestamp, now);
            // Its own forks may have come first, from another CPU (runc's init forks its next stage at once).
            this.passToLaterForks(ev.childPid, ev.timestamp, now, FORK_DEPTH);
          }
          break;
        case 'cgroup-attach':
          this.trackCgroup(ev.pid, ev.root, ev.path, ev.timestamp, now);
          if (this.containerCgroups.get(ev.pid, now)) {
            if (this.containerPids.get(ev.pid, now) === undefined) this.readContainerPid(ev.pid, ev.timestamp, now);
            this.passToLaterForks(ev.pid, ev.timestamp, now, FORK_DEPTH);
          }
          break;
        case 'sock-state':
          if (isConnectTransition(ev)) {
            ev.comm ??= this.comms.get(ev.tid, now) ?? null;
            const capture = this.capture(ev, now);
            // stat and the ancestors too, now: by the time the event is applied in order the client may be reaped.
            capture.snapshot ??= readProcessSnapshot(capture.pid, this.opts, capture.volatile);
            this.captured.set(ev, capture);
          }
          break;
        default:
          break;
      }
    }
    this.reorder.push(events);
  }

  /** Applies events in kernel time order. */
  private apply(events: TraceEvent[]): void {
    const now = performance.now();
    let changed = false;
    for (const ev of events) {
      switch (ev.kind) {
        case 'mark':
          if (ev.tid === process.pid) this.marks.read++;
          break;
        case 'lost':
          this.stats.lostEvents += ev.count > 0 ? ev.count : 1;
          this.lastLossAtMs = now;
          break;
        case 'exec':
          {
            const seen = [...(this.execs.get(ev.pid, now) ?? []), { filename: ev.filename, timestamp: ev.timestamp }];
            this.execs.set(ev.pid, seen.sort((x, y) => x.timestamp - y.timestamp).slice(-EXECS_KEPT), now);
          }
          break;
        case 'fork':
          this.parents.set(ev.childPid, ev.tgid ?? ev.parentPid, now);
          break;
        case 'sock-state': {
          // The thread's fork (its only name when it is gone) may be on another CPU whose page
          // arrived after this one's (seen on 5.10): by now, in time order, it has arrived.
          if (ev.comm === null && isConnectTransition(ev)) ev.comm = this.comms.get(ev.tid, now) ?? null;
          const early = this.captured.get(ev);
          this.captured.delete(ev);
          const update = this.index.apply(ev, now, (e) => this.payload(e, early, now));
          if (update.connected) this.stats.connects++;
          changed ||= update.changed;
          break;
        }
        default:
          break;
      }
    }
    if (changed) this.wakeWaiters(now);
    for (const w of [...this.markWaiters]) if (this.marks.read >= w.n) w.pass();
  }

  /** Remembers a task's cgroup on one hierarchy when the path names a container. */
  private trackCgroup(pid: number, root: number, cgroupPath: string, timestamp: number, now: number): void {
    const entries = (this.containerCgroups.get(pid, now)?.value ?? []).filter((e) => e.hierarchyId !== root);
    if (containerIdFromCgroup(cgroupPath) !== null) entries.push({ hierarchyId: root, controllers: [], path: cgroupPath });
    if (entries.length > 0) this.containerCgroups.set(pid, { value: entries, timestamp }, now);
    else this.containerCgroups.delete(pid);
    this.stats.trackedContainerTasks = this.containerCgroups.size;
  }

  /**
   * Copies the parent's container cgroups to the child at its fork; true if the child is in a
   * container. What the child's own later events (arrived first) said is kept.
   */
  private inheritCgroups(parent: number, child: number, timestamp: number, now: number): boolean {
    const own = this.containerCgroups.get(child, now);
    if (own && own.timestamp >= timestamp) return true;
    const inherited = this.containerCgroups.get(parent, now);
    if (!inherited) {
      // A reused pid: the task that had it before (and its container) is gone.
      if (this.containerCgroups.delete(child)) this.stats.trackedContainerTasks = this.containerCgroups.size;
      return false;
    }
    this.containerCgroups.set(parent, inherited, now);
    this.containerCgroups.set(child, { value: inherited.value, timestamp }, now);
    this.stats.trackedContainerTasks = this.containerCgroups.size;
    return true;
  }

  /**
   * A task known to be in a container only after its forks arrived: the children it made
   * since (and theirs, `depth` generations down) inherit the container as their fork would
   * have told.
   */
  private passToLaterForks(parent: number, since: number, now: number, depth: number): void {
    if (depth === 0) return;
    for (const child of this.forks.get(parent, now) ?? []) {
      if (child.timestamp <= since || this.bornAt.get(child.value, now) !== child.timestamp) continue;
      if (this.inheritCgroups(parent, child.value, child.timestamp, now) && this.containerPids.get(child.value, now) === undefined) {
        this.readContainerPid(child.value, child.timestamp, now);
      }
      this.passToLaterForks(child.value, child.timestamp, now, depth - 1);
    }
  }

  /** Reads a container task's in-container pid now, while it (most likely) still exists. */
  private readContainerPid(pid: number, timestamp: number, now: number): void {
    const text = captureStatus(pid, this.opts);
    const nsPid = text === null ? null : innermostNsPid(parseStatus(text));
    if (nsPid === null) return;
    this.containerPids.set(pid, { value: nsPid, timestamp }, now);
    this.stats.containerPidsRead++;
  }

  /** The volatile files of the connecting process (reused for a pid seen within snapshotTtlMs). */
  private capture(ev: SockStateEvent, now: number): Capture {
    // Without a tgid (`(-------)`: the task was not switched out yet when the line was
    // formatted) /proc/<tid>/status names the process; any thread's /proc/<tid> is readable.
    const tgid = ev.tgid ?? readTgid(ev.tid, this.opts);
    if (tgid === null) this.stats.connectsWithoutTgid++;
    const pid = tgid ?? ev.tid;
    const cached = this.captures.get(pid, now);
    if (cached) return cached;
    const fresh: Capture = { pid, volatile: captureVolatile(pid, this.opts), snapshot: null };
    this.captures.set(pid, fresh, now);
    return fresh;
  }

  private payload(ev: SockStateEvent, early: Capture | undefined, now: number): ConnectPayload {
    const capture = early ?? this.capture(ev, now);
    capture.snapshot ??= readProcessSnapshot(capture.pid, this.opts, capture.volatile);
    return {
      capture,
      exec: lastBefore(this.execs.get(capture.pid, now), ev.timestamp),
      connectedAt: ev.timestamp,
      parentPid: this.parents.get(capture.pid, now),
      containerCgroups: (this.containerCgroups.get(ev.tid, now) ?? this.containerCgroups.get(capture.pid, now))?.value,
      nsPid: this.containerPids.get(capture.pid, now)?.value,
    };
  }

  private wakeWaiters(now: number): void {
    for (const w of [...this.waiters]) {
      const record = this.index.lookup(w.key, now, w.at);
      if (record) w.settle(record);
    }
  }

  /**
   * The exec that named the process at its connect. One from another CPU can be applied after the
   * connect when that CPU's page came later than the reorder window (seen under qemu TCG:
   * `ip netns exec … curl` reported as ip): a newer exec still from before the connect wins.
   */
  private execBefore(payload: ConnectPayload): ExecSeen | undefined {
    const latest = lastBefore(this.execs.get(payload.capture.pid, performance.now()), payload.connectedAt);
    const atConnect = payload.exec;
    return latest && latest.timestamp > (atConnect?.timestamp ?? -Infinity) ? latest : atConnect;
  }

  /** ProcessInfo from what /proc showed at connect time, completed from the trace where it had gone. */
  private async describe(record: ConnectRecord<ConnectPayload>): Promise<ProcessInfo> {
    const { capture } = record.payload;
    let { parentPid, containerCgroups, nsPid } = record.payload;
    const snap = await capture.snapshot;
    const alive = capturedAlive(capture.volatile);
    if (!snap || (!alive && containerCgroups === undefined)) {
      // Gone before /proc was read: the trace must name it, and its exec (or fork), or the
      // cgroup_attach_task that placed its container, may be on another CPU whose reader is
      // behind. Wait for every CPU up to the connect, then look again.
      if (this.hasCpuStats()) {
        await this.catchUp(record.payload.connectedAt, CATCH_UP_MS);
        const now = performance.now();
        record.comm ??= this.comms.get(record.tid, now) ?? null;
        parentPid ??= this.parents.get(capture.pid, now);
      }
      const now = performance.now();
      containerCgroups ??= (this.containerCgroups.get(record.tid, now) ?? this.containerCgroups.get(capture.pid, now))?.value;
      nsPid ??= this.containerPids.get(capture.pid, now)?.value;
    }
    const exec = this.execBefore(record.payload)?.filename;
    const execComm = exec ? path.basename(exec).slice(0, COMM_MAX) : null;
    const tracked = containerCgroups ? describeCgroups(containerCgroups) : null;
    if (snap) {
      const cgroupGone = snap.info.cgroup === null && tracked !== null;
      return {
        ...snap.info,
        exe: snap.info.exe ?? exec ?? null,
        cgroup: cgroupGone ? tracked.path : snap.info.cgroup,
        containerId: snap.info.containerId ?? tracked?.containerId ?? null,
        nsPid: snap.info.nsPid ?? nsPid ?? null,
        attribution: alive ? 'tracefs' : 'exited',
      };
    }
    // stat was gone: keep what the early capture got. An exec seen before connect() names
    // the program more reliably than the cached comm, which can be stale (pre-exec) or a thread's.
    const v = capture.volatile;
    const status = v.status === null ? null : parseStatus(v.status);
    const ppid = parentPid ?? status?.ppid ?? null;
    const info = await describeProcess({ pid: capture.pid, ppid, comm: execComm ?? status?.name ?? record.comm }, v, status, this.opts);
    return {
      ...info,
      exe: info.exe ?? exec ?? null,
      cgroup: v.cgroup === null ? (tracked?.path ?? null) : info.cgroup,
      containerId: v.cgroup === null ? (tracked?.containerId ?? null) : info.containerId,
      nsPid: info.nsPid ?? nsPid ?? null,
      attribution: 'exited',
    };
  }
}
