// Pure parser of /proc/net/tcp and /proc/net/tcp6 lines (the procfs fallback's socket table).

import { ipFromProcHex } from './kernel-address.js';

import type { Endpoint } from '../capture/endpoints.js';

/** One row of /proc/net/tcp{,6}. */
export interface ProcNetTcpEntry {
  local: Endpoint;
  remote: Endpoint;
  /** Kernel TCP state: 1 ESTABLISHED, 2 SYN_SENT, 6 TIME_WAIT, 10 LISTEN … */
  state: number;
  uid: number;
  /** Socket inode, matched against `socket:[inode]` fd links; 0 for TIME_WAIT and request socks. */
  inode: number;
}

/** TCP states by the number the kernel prints (include/net/tcp_states.h). */
export const TcpState = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  CLOSE: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
  NEW_SYN_RECV: 12,
} as const;

function parseEndpoint(text: string | undefined, hostLittleEndian: boolean): Endpoint | null {
  if (!text) return null;
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const ip = ipFromProcHex(text.slice(0, colon), hostLittleEndian);
  const port = parseInt(text.slice(colon + 1), 16);
  if (ip === null || !Number.isInteger(port)) return null;
  return { ip, port };
}

/**
 * Parses one data line (`  1: 0100007F:A7C6 0100007F:0050 01 … uid timeout inode …`).
 * Addresses are the in-memory 32-bit words printed in hex, so each word reads byte-reversed
 * on little-endian hosts; ports are plain hex. Returns null for the header or a bad line.
 */
export function parseProcNetTcpLine(line: string, hostLittleEndian = true): ProcNetTcpEntry | null {
  const f = line.trim().split(/\s+/);
  if (!/^\d+:$/.test(f[0] ?? '')) return null;
  const local = parseEndpoint(f[1], hostLittleEndian);
  const remote = parseEndpoint(f[2], hostLittleEndian);
  const state = parseInt(f[3] ?? '', 16);
  const uid = Number(f[7]);
  const inode = Number(f[9]);
  if (!local || !remote || !Number.isInteger(state) || !Number.isInteger(uid) || !Number.isInteger(inode)) {
    return null;
  }
  return { local, remote, state, uid, inode };
}

/** Parses a whole /proc/net/tcp or tcp6 file, skipping the header and bad lines. */
export function parseProcNetTcp(text: string, hostLittleEndian = true): ProcNetTcpEntry[] {
  const entries: ProcNetTcpEntry[] = [];
  for (const line of text.split('\n')) {
    const entry = parseProcNetTcpLine(line, hostLittleEndian);
    if (entry) entries.push(entry);
  }
  return entries;
}
