// /proc walks for the procfs fallback: network namespaces, socket tables, fd → socket inode.

import { readdir, readFile, readlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import path from 'node:path';
import { ipv4Mapped } from './kernel-address.js';
import { parseNsLink } from './proc-parsers.js';
import { parseProcNetTcp, type ProcNetTcpEntry } from './proc-net-tcp.js';
import type { SocketKey } from './types.js';

const LITTLE_ENDIAN = endianness() === 'LE';

/** Numeric entries of the proc root: every process (thread group) id, ascending. */
export async function listPids(procRoot: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(procRoot);
  } catch {
    return [];
  }
  return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
}

/** Each process's network namespace inode; processes that vanish or deny access are left out. */
export async function readNetNamespaces(procRoot: string, pids: number[]): Promise<Map<number, number>> {
  const byPid = new Map<number, number>();
  await Promise.all(
    pids.map(async (pid) => {
      try {
        const inode = parseNsLink(await readlink(path.join(procRoot, String(pid), 'ns', 'net')));
        if (inode !== null) byPid.set(pid, inode);
      } catch {
        // Exited, or a kernel thread we may not inspect.
      }
    }),
  );
  return byPid;
}

/** One pid per distinct namespace inode (the lowest), which is enough to read that netns's tables. */
export function onePidPerNamespace(netnsByPid: Map<number, number>): Map<number, number> {
  const pidByNetns = new Map<number, number>();
  for (const [pid, netns] of [...netnsByPid].sort((a, b) => a[0] - b[0])) {
    if (!pidByNetns.has(netns)) pidByNetns.set(netns, pid);
  }
  return pidByNetns;
}

/** True when a socket-table row is the client side of `key` (IPv4 also as v4-mapped in tcp6). */
export function rowMatchesKey(row: ProcNetTcpEntry, key: SocketKey): boolean {
  if (row.local.port !== key.srcPort || row.remote.port !== key.dstPort) return false;
  if (row.local.ip === key.srcIp && row.remote.ip === key.dstIp) return true;
  return key.family === 4 && row.local.ip === ipv4Mapped(key.srcIp) && row.remote.ip === ipv4Mapped(key.dstIp);
}

/**
 * Socket inodes for `key` in the network namespace `pid` lives in (read through
 * /proc/<pid>/net/tcp{,6}, which shows the reader's view of that pid's netns).
 * TIME_WAIT rows have inode 0 and are skipped: no process holds them.
 */
export async function findSocketInodes(procRoot: string, pid: number, key: SocketKey): Promise<number[]> {
  const files = key.family === 4 ? ['tcp', 'tcp6'] : ['tcp6'];
  const inodes: number[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(path.join(procRoot, String(pid), 'net', file), 'utf8');
    } catch {
      continue;
    }
    for (const row of parseProcNetTcp(text, LITTLE_ENDIAN)) {
      if (row.inode !== 0 && rowMatchesKey(row, key)) inodes.push(row.inode);
    }
  }
  return inodes;
}

/**
 * The first process, in the order given, with an fd open on `socket:[inode]`. Several
 * processes can share one socket after fork; the caller orders `pids` by preference.
 */
export async function findSocketHolder(procRoot: string, inode: number, pids: number[]): Promise<number | null> {
  const target = `socket:[${inode}]`;
  for (const pid of pids) {
    const fdDir = path.join(procRoot, String(pid), 'fd');
    let fds: string[];
    try {
      fds = await readdir(fdDir);
    } catch {
      continue;
    }
    const links = await Promise.all(fds.map((fd) => readlink(path.join(fdDir, fd)).catch(() => null)));
    if (links.includes(target)) return pid;
  }
  return null;
}
