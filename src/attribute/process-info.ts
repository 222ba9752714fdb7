// Reads one process's ProcessInfo from /proc (or a fixture tree): the I/O edge of attribution.

import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { describeCgroups } from './container.js';
import {
  parseCgroup,
  parseCmdline,
  parseNsLink,
  parseStat,
  parseStatus,
  innermostNsPid,
  stripDeleted,
  type ProcStat,
  type ProcStatus,
} from './proc-parsers.js';
import type { Ancestor, ProcessInfo } from './types.js';
import { userNamesFor, type UserNames } from './users.js';

/** Where to read from; tests point these at fixtures/proc. */
export interface ProcOptions {
  /** The proc mount; default /proc. */
  procRoot?: string;
  /** Directory holding etc/passwd; default '/'. */
  hostRoot?: string;
  /** uid → name cache; default one shared per hostRoot. */
  users?: UserNames;
}

/** Ancestor walks stop here even if the chain is longer (or a race made it cyclic). */
export const MAX_ANCESTOR_DEPTH = 64;

/** /proc/<pid>/stat, or null if the process is gone (or never existed). */
export function readStat(pid: number, opts: ProcOptions = {}): ProcStat | null {
  const text = readTextSync(procPath(opts, pid, 'stat'));
  return text === null ? null : parseStat(text);
}

/**
 * The Tgid (process id) of a task id, or null if the task is gone or half-way through its
 * exit (its status says `Tgid: 0`; seen: an event naming pid 0 for a podman container's curl).
 */
export function readTgid(tid: number, opts: ProcOptions = {}): number | null {
  const text = readTextSync(procPath(opts, tid, 'status'));
  return text === null ? null : parseStatus(text).tgid;
}

/**
 * Walks ppid links from `pid` (inclusive) up to pid 1: [{pid, comm}, parent, …, init].
 * A process that exits mid-walk ends the chain early instead of failing. Synchronous: a
 * handful of tiny in-memory reads cost less than one round trip through the libuv pool.
 */
export function readAncestors(pid: number, opts: ProcOptions = {}): Ancestor[] {
  const chain: Ancestor[] = [];
  const seen = new Set<number>();
  let next = pid;
  while (next > 0 && !seen.has(next) && chain.length < MAX_ANCESTOR_DEPTH) {
    seen.add(next);
    const stat = readStat(next, opts);
    if (!stat) break;
    chain.push({ pid: stat.pid, comm: stat.comm });
    if (next === 1) break;
    next = stat.ppid;
  }
  return chain;
}

/**
 * Everything /proc says about `pid`, attribution 'procfs'. Returns null when
 * /proc/<pid>/stat cannot be read (the process is gone). Files that vanish while reading
 * (the process exited half-way) leave their fields null.
 */
export async function readProcessInfo(pid: number, opts: ProcOptions = {}): Promise<ProcessInfo | null> {
  return (await readProcessSnapshot(pid, opts))?.info ?? null;
}

/** A ProcessInfo together with the raw stat it was built from (state tells a zombie apart). */
export interface ProcessSnapshot {
  info: ProcessInfo;
  stat: ProcStat;
}

/**
 * The per-process files the kernel tears down the moment a process exits, before its parent
 * reaps it (stat and status outlive them, as a zombie): raw text as read, null if unreadable.
 */
export interface VolatileProcFiles {
  exe: string | null;
  cmdline: string | null;
  netns: string | null;
  cgroup: string | null;
  /** Raw /proc/<pid>/status (it outlives the others, but not the reaping: kept for uid and NSpid). */
  status: string | null;
}

/**
 * Reads exe, cmdline, ns/net and cgroup of `pid` synchronously, back to back. A client that
 * lives ~20 ms exits a few ms after its SYN; queueing these reads on the libuv pool (or
 * behind the rest of a snapshot) measurably lost that race, sync reads of these tiny
 * in-memory files cost tens of microseconds.
 */
export function captureVolatile(pid: number, opts: ProcOptions = {}): VolatileProcFiles {
  return {
    exe: readLinkSync(procPath(opts, pid, 'exe')),
    cmdline: readTextSync(procPath(opts, pid, 'cmdline')),
    netns: readLinkSync(procPath(opts, pid, 'ns', 'net')),
    cgroup: readTextSync(procPath(opts, pid, 'cgroup')),
    status: readTextSync(procPath(opts, pid, 'status')),
  };
}

/** Raw /proc/<pid>/status, or null when the process is gone. */
export function captureStatus(pid: number, opts: ProcOptions = {}): string | null {
  return readTextSync(procPath(opts, pid, 'status'));
}

/**
 * True when the capture saw a live process. A zombie or a vanished one has no ns link;
 * one half-way through exit() has already lost its memory map (exit_mm comes before
 * exit_task_namespaces), so no exe link and an empty cmdline while the ns link remains.
 */
export function capturedAlive(files: VolatileProcFiles): boolean {
  return files.netns !== null && files.exe !== null;
}

/**
 * Like {@link readProcessInfo}, also returning stat. `volatile` may be captured earlier
 * (see {@link captureVolatile}); stat, status and the ancestors, which outlive the process
 * until it is reaped, are read after it, and the user name last.
 */
export async function readProcessSnapshot(
  pid: number,
  opts: ProcOptions = {},
  volatile: VolatileProcFiles = captureVolatile(pid, opts),
): Promise<ProcessSnapshot | null> {
  const statText = readTextSync(procPath(opts, pid, 'stat'));
  const stat = statText === null ? null : parseStat(statText);
  // parseStat refuses pid 0, what a task already unhashed in its exit shows: as good as gone.
  if (!stat) return null;
  const statusText = readTextSync(procPath(opts, pid, 'status')) ?? volatile.status;
  const status = statusText === null ? null : parseStatus(statusText);
  const info = await describeProcess({ pid: stat.pid, ppid: stat.ppid, comm: stat.comm }, volatile, status, opts);
  return { info, stat };
}

/** Who a process is: from its stat, or (once stat is gone) from what a trace remembers. */
export interface ProcessIdentity {
  pid: number;
  ppid: number | null;
  comm: string | null;
}

/**
 * The ProcessInfo (attribution 'procfs') of `identity` from the files captured early
 * ({@link captureVolatile}) and the best status read (live, else captured): exe, cmdline,
 * netns and cgroup come from the capture, uid from the status, ancestors from ppid up, and
 * nsPid from the captured status first (the connecting moment's; a live read may be a reused pid's).
 */
export async function describeProcess(
  identity: ProcessIdentity,
  volatile: VolatileProcFiles,
  status: ProcStatus | null,
  opts: ProcOptions = {},
): Promise<ProcessInfo> {
  const uid = status?.uid ?? null;
  const cgroups = volatile.cgroup === null ? null : describeCgroups(parseCgroup(volatile.cgroup));
  const ancestors = identity.ppid !== null && identity.ppid > 0 ? readAncestors(identity.ppid, opts) : [];
  const users = opts.users ?? userNamesFor(opts.hostRoot);
  const user = uid === null ? null : await users.name(uid);
  return {
    pid: identity.pid,
    ppid: identity.ppid,
    comm: identity.comm,
    exe: volatile.exe === null ? null : stripDeleted(volatile.exe),
    cmdline: volatile.cmdline === null ? null : parseCmdline(volatile.cmdline),
    uid,
    user,
    ancestors,
    netns: volatile.netns === null ? null : parseNsLink(volatile.netns),
    cgroup: cgroups?.path ?? null,
    containerId: cgroups?.containerId ?? null,
    nsPid: innermostNsPid(volatile.status === null ? status : parseStatus(volatile.status)),
    attribution: 'procfs',
  };
}

function procPath(opts: ProcOptions, pid: number, ...rest: string[]): string {
  return path.join(opts.procRoot ?? '/proc', String(pid), ...rest);
}

function readTextSync(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function readLinkSync(file: string): string | null {
  try {
    return readlinkSync(file);
  } catch {
    return null;
  }
}
