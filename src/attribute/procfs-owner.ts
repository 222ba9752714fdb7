// SocketOwnerFinder 'procfs': socket table + fd scan; the fallback, only sees sockets still open.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { normalizeIp } from '../decode/ip-address.js';
import { readProcessInfo, type ProcOptions } from './process-info.js';
import { findSocketHolder, findSocketInodes, listPids, onePidPerNamespace, readNetNamespaces } from './proc-scan.js';
import { unknownProcess, type ProcessInfo, type SocketKey, type SocketOwnerFinder } from './types.js';

/** Delays between attempts: the SYN can be captured before the socket shows in /proc/net/tcp. */
const RETRY_DELAYS_MS = [0, 5, 15, 40, 100, 250, 500];

/** Options for {@link ProcfsOwnerFinder}. */
export interface ProcfsOwnerOptions extends ProcOptions {
  /** Attempts are spaced by these delays (clamped to the timeout); default 0, 5, 15, 40, 100, 250, 500 ms. */
  retryDelaysMs?: number[];
}

/**
 * Finds a socket's owner the way ss -p does: look the 4-tuple up in every network
 * namespace's tcp table, then find the process holding that inode. Works only while the
 * socket is still open, so short-lived clients usually come back 'unknown'.
 */
export class ProcfsOwnerFinder implements SocketOwnerFinder {
  readonly method = 'procfs' as const;
  private readonly procRoot: string;
  private readonly retryDelaysMs: number[];
  private closed = false;

  constructor(private readonly opts: ProcfsOwnerOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.retryDelaysMs = opts.retryDelaysMs ?? RETRY_DELAYS_MS;
  }

  /** Checks the proc root has a readable socket table. */
  async start(): Promise<void> {
    try {
      await readFile(path.join(this.procRoot, 'net', 'tcp'), 'utf8');
    } catch (cause) {
      throw new Error(`procfs attribution unavailable: cannot read ${path.join(this.procRoot, 'net', 'tcp')}`, {
        cause,
      });
    }
  }

  /** Tries at once, then a few more times with short waits, until `timeoutMs` is spent. */
  async find(key: SocketKey, timeoutMs: number): Promise<ProcessInfo> {
    const k: SocketKey = { ...key, srcIp: normalizeIp(key.srcIp), dstIp: normalizeIp(key.dstIp) };
    const deadline = Date.now() + timeoutMs;
    for (const delayMs of this.retryDelaysMs) {
      const waitMs = Math.min(delayMs, deadline - Date.now());
      if (waitMs < 0 || this.closed) break;
      if (waitMs > 0) await sleep(waitMs);
      const found = await this.attempt(k);
      if (found) return found;
    }
    return unknownProcess();
  }

  /** One pass over all namespaces; null when the socket (or its holder) was not found. */
  async attempt(key: SocketKey): Promise<ProcessInfo | null> {
    const pids = await listPids(this.procRoot);
    const netnsByPid = await readNetNamespaces(this.procRoot, pids);
    for (const [netns, nsPid] of onePidPerNamespace(netnsByPid)) {
      for (const inode of await findSocketInodes(this.procRoot, nsPid, key)) {
        // Holders in the socket's own namespace first; a socket passed across namespaces is rare.
        const same = pids.filter((p) => netnsByPid.get(p) === netns);
        const others = pids.filter((p) => netnsByPid.get(p) !== netns);
        const holder = await findSocketHolder(this.procRoot, inode, [...same, ...others]);
        if (holder === null) continue;
        const info = await readProcessInfo(holder, this.opts);
        if (info) return { ...info, attribution: 'procfs' };
      }
    }
    return null;
  }

  /** Nothing to release; stops pending retries. */
  async close(): Promise<void> {
    this.closed = true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
