// Test side: parses recorded trace_pipe text lines (fixtures/proc/trace, from the reader before
// the raw one) into the finder's events, so those real captures still drive the index tests.

import { ipv4FromHostWord } from '../../src/attribute/kernel-address.js';
import type { SockStateEvent, TraceContext, TraceEvent } from '../../src/attribute/tracefs/trace-events.js';

// Task column: the comm may contain '-' and spaces, so the tid is the LAST "-<digits>"
// before the optional "(tgid)" and the "[cpu]" column. Flags (irq-info) are optional.
const CONTEXT =
  /^\s*(.+)-(\d+)\s+(?:\(\s*(\d+|-+)\s*\)\s+)?\[(\d+)\]\s+(?:\S+\s+)?(\d+(?:\.\d+)?):\s+(\w+):\s?(.*)$/;
const LOST = /^CPU:(\d+) \[LOST (\d+) EVENTS\]/;
// A trace_marker write: `tracing_mark_write: text`, or `UNKNOWN TYPE 5` under the `fields` option.
const MARK = /^\s*.+-(\d+)\s+(?:\(\s*(?:\d+|-+)\s*\)\s+)?\[\d+\]\s+(?:\S+\s+)?\d+(?:\.\d+)?:\s+(?:tracing_mark_write:|UNKNOWN TYPE \d+\s*$)/;
// `fields` prints integers as "0x<hex> (<decimal>)".
const FIELD = /(\w+)=0x([0-9a-f]+) \((-?\d+)\)/g;
const NUM = '(?:0x[0-9a-f]+ \\()?(-?\\d+)\\)?';
const EXEC = new RegExp(`^filename=(.*) pid=${NUM} old_pid=${NUM}$`);
const FORK = new RegExp(`^parent_comm=(.*) parent_pid=${NUM} child_comm=(.*) child_pid=${NUM}$`);

const AF_INET = 2;
const AF_INET6 = 10;

/**
 * Parses one trace_pipe line. Returns null for events this finder does not use, for the
 * default inet_sock_set_state print (no skaddr: the `fields` option is off), and for junk.
 */
export function parseTraceLine(line: string, hostLittleEndian = true): TraceEvent | null {
  const lost = LOST.exec(line);
  if (lost) return { kind: 'lost', cpu: Number(lost[1]), count: Number(lost[2]) };
  const mark = MARK.exec(line);
  if (mark) return { kind: 'mark', tid: Number(mark[1]) };
  const m = CONTEXT.exec(line);
  if (!m) return null;
  const [, comm = '', tid = '', tgid = '', cpu = '', ts = '', event, body = ''] = m;
  const ctx: TraceContext = {
    comm: comm.trim() === '<...>' ? null : comm.trim(),
    tid: Number(tid),
    tgid: /^\d+$/.test(tgid) ? Number(tgid) : null,
    cpu: Number(cpu),
    timestamp: Number(ts),
  };
  switch (event) {
    case 'inet_sock_set_state':
      return parseSockState(ctx, body, hostLittleEndian);
    case 'sched_process_exec': {
      const e = EXEC.exec(body);
      return e ? { ...ctx, kind: 'exec', filename: e[1] ?? '', pid: Number(e[2]), oldPid: Number(e[3]) } : null;
    }
    case 'sched_process_fork': {
      const f = FORK.exec(body);
      return f
        ? {
            ...ctx,
            kind: 'fork',
            parentComm: f[1] ?? '',
            parentPid: Number(f[2]),
            childComm: f[3] ?? '',
            childPid: Number(f[4]),
          }
        : null;
    }
    default:
      return null;
  }
}

function parseSockState(ctx: TraceContext, body: string, hostLittleEndian: boolean): SockStateEvent | null {
  const hex = new Map<string, string>();
  const dec = new Map<string, number>();
  for (const f of body.matchAll(FIELD)) {
    hex.set(f[1] ?? '', f[2] ?? '');
    dec.set(f[1] ?? '', Number(f[3]));
  }
  const skaddr = hex.get('skaddr');
  const family = dec.get('family');
  const need = ['oldstate', 'newstate', 'sport', 'dport'].map((k) => dec.get(k));
  if (skaddr === undefined || (family !== AF_INET && family !== AF_INET6) || need.some((v) => v === undefined)) {
    return null;
  }
  const [oldState = 0, newState = 0, sport = 0, dport = 0] = need as number[];
  const v4 = (name: string): string | null => {
    const h = hex.get(name);
    return family === AF_INET && h !== undefined ? ipv4FromHostWord(parseInt(h, 16), hostLittleEndian) : null;
  };
  return {
    ...ctx,
    kind: 'sock-state',
    skaddr,
    oldState,
    newState,
    sport,
    dport,
    family: family === AF_INET ? 4 : 6,
    protocol: dec.get('protocol') ?? null,
    saddr: v4('saddr'),
    daddr: v4('daddr'),
  };
}
