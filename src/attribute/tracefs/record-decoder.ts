// Pure: raw tracepoint records → TraceEvents, through the field layouts the kernel published.

import { formatIpv4, formatIpv6 } from '../../decode/ip-address.js';
import type { EventFormat, FieldLayout } from './format.js';
import type { TraceEvent } from './trace-events.js';

const AF_INET = 2;
const AF_INET6 = 10;

/** The formats of the events enabled in the instance; missing optional ones are simply not decoded. */
export interface TraceFormats {
  sockState: EventFormat;
  exec?: EventFormat;
  fork?: EventFormat;
  cgroupAttach?: EventFormat;
  /** ftrace:print, the event a trace_marker write makes. */
  print?: EventFormat;
}

/** Fields inet_sock_set_state must have for the finder to join and filter connections. */
export const REQUIRED_SOCK_FIELDS = ['skaddr', 'oldstate', 'newstate', 'sport', 'dport', 'family', 'saddr', 'daddr'] as const;

type Reader<T> = (data: Buffer) => T;

/** Decodes one record (a view valid only during the call) seen on `cpu` at `timestampNs`, or null when unused. */
export type RecordDecoder = (data: Buffer, cpu: number, timestampNs: bigint) => TraceEvent | null;

/** Builds a decoder; throws when a required field is missing or laid out in a way it cannot read. */
export function createRecordDecoder(formats: TraceFormats): RecordDecoder {
  const decoders = new Map<number, (data: Buffer, cpu: number, timestamp: number) => TraceEvent | null>();
  const sock = formats.sockState;
  const int = (f: EventFormat, name: string): Reader<number> => intReader(need(f, name));
  const optionalInt = (f: EventFormat, name: string): Reader<number | null> => {
    const field = f.fields.get(name);
    if (!field) return () => null;
    const read = intReader(field);
    return (d) => read(d);
  };
  const str = (f: EventFormat, name: string): Reader<string> => stringReader(need(f, name));
  const pid = int(sock, 'common_pid');

  const skaddr = pointerReader(need(sock, 'skaddr'));
  const oldState = int(sock, 'oldstate');
  const newState = int(sock, 'newstate');
  const sport = int(sock, 'sport');
  const dport = int(sock, 'dport');
  const family = int(sock, 'family');
  const protocol = optionalInt(sock, 'protocol');
  const saddr4 = bytesReader(need(sock, 'saddr'), 4);
  const daddr4 = bytesReader(need(sock, 'daddr'), 4);
  const saddr6 = sock.fields.has('saddr_v6') ? bytesReader(need(sock, 'saddr_v6'), 16) : null;
  const daddr6 = sock.fields.has('daddr_v6') ? bytesReader(need(sock, 'daddr_v6'), 16) : null;
  decoders.set(sock.id, (d, cpu, timestamp) => {
    const fam = family(d);
    if (fam !== AF_INET && fam !== AF_INET6) return null;
    const v6 = fam === AF_INET6;
    return {
      kind: 'sock-state',
      comm: null,
      tid: pid(d),
      tgid: null,
      cpu,
      timestamp,
      skaddr: skaddr(d),
      oldState: oldState(d),
      newState: newState(d),
      sport: sport(d),
      dport: dport(d),
      family: v6 ? 6 : 4,
      protocol: protocol(d),
      saddr: v6 ? (saddr6 ? formatIpv6(saddr6(d)) : null) : formatIpv4(saddr4(d)),
      daddr: v6 ? (daddr6 ? formatIpv6(daddr6(d)) : null) : formatIpv4(daddr4(d)),
    };
  });

  if (formats.exec) {
    const f = formats.exec;
    const [tid, filename, execPid, oldPid] = [int(f, 'common_pid'), str(f, 'filename'), int(f, 'pid'), int(f, 'old_pid')];
    decoders.set(f.id, (d, cpu, timestamp) => ({
      kind: 'exec',
      comm: null,
      tid: tid(d),
      tgid: null,
      cpu,
      timestamp,
      filename: filename(d),
      pid: execPid(d),
      oldPid: oldPid(d),
    }));
  }
  if (formats.fork) {
    const f = formats.fork;
    const [tid, parentComm, parentPid, childComm, childPid] = [
      int(f, 'common_pid'),
      str(f, 'parent_comm'),
      int(f, 'parent_pid'),
      str(f, 'child_comm'),
      int(f, 'child_pid'),
    ];
    decoders.set(f.id, (d, cpu, timestamp) => ({
      kind: 'fork',
      comm: null,
      tid: tid(d),
      tgid: null,
      cpu,
      timestamp,
      parentComm: parentComm(d),
      parentPid: parentPid(d),
      childComm: childComm(d),
      childPid: childPid(d),
    }));
  }
  if (formats.cgroupAttach) {
    const f = formats.cgroupAttach;
    const [tid, root, path, movedPid] = [int(f, 'common_pid'), int(f, 'dst_root'), str(f, 'dst_path'), int(f, 'pid')];
    decoders.set(f.id, (d, cpu, timestamp) => ({
      kind: 'cgroup-attach',
      comm: null,
      tid: tid(d),
      tgid: null,
      cpu,
      timestamp,
      root: root(d),
      path: path(d),
      pid: movedPid(d),
    }));
  }
  if (formats.print) {
    const tid = int(formats.print, 'common_pid');
    decoders.set(formats.print.id, (d, _cpu, timestamp) => ({ kind: 'mark', tid: tid(d), timestamp }));
  }

  return (data, cpu, timestampNs) => {
    if (data.length < 8) return null;
    const decode = decoders.get(data.readUInt16LE(0));
    if (!decode) return null;
    try {
      return decode(data, cpu, Number(timestampNs) / 1e9);
    } catch {
      return null; // a record shorter than its format says: skip it, never crash the reader
    }
  };
}

function need(format: EventFormat, name: string): FieldLayout {
  const field = format.fields.get(name);
  if (!field) throw new Error(`${format.system}:${format.name} has no field '${name}'`);
  return field;
}

function intReader(f: FieldLayout): Reader<number> {
  const { offset, signed } = f;
  switch (f.size) {
    case 1:
      return signed ? (d) => d.readInt8(offset) : (d) => d.readUInt8(offset);
    case 2:
      return signed ? (d) => d.readInt16LE(offset) : (d) => d.readUInt16LE(offset);
    case 4:
      return signed ? (d) => d.readInt32LE(offset) : (d) => d.readUInt32LE(offset);
    case 8:
      return signed ? (d) => Number(d.readBigInt64LE(offset)) : (d) => Number(d.readBigUInt64LE(offset));
    default:
      throw new Error(`field '${f.name}' is ${f.size} bytes: not an integer this reader knows`);
  }
}

/** A kernel pointer as 16 hex digits (the identity of a struct sock). */
function pointerReader(f: FieldLayout): Reader<string> {
  if (f.size !== 8 && f.size !== 4) throw new Error(`field '${f.name}' is ${f.size} bytes: not a pointer`);
  const { offset } = f;
  if (f.size === 4) return (d) => d.readUInt32LE(offset).toString(16).padStart(8, '0');
  return (d) => d.readUInt32LE(offset + 4).toString(16).padStart(8, '0') + d.readUInt32LE(offset).toString(16).padStart(8, '0');
}

function bytesReader(f: FieldLayout, size: number): Reader<Buffer> {
  if (f.size !== size) throw new Error(`field '${f.name}' is ${f.size} bytes, expected ${size}`);
  const { offset } = f;
  return (d) => d.subarray(offset, offset + size);
}

/** A NUL-terminated string stored inline (`char comm[16]`) or at a data_loc/rel_loc. */
function stringReader(f: FieldLayout): Reader<string> {
  const { offset, size } = f;
  const text = (d: Buffer, start: number, length: number): string => {
    const end = Math.min(start + length, d.length);
    if (start < 0 || start > end) throw new RangeError('string outside the record');
    const nul = d.indexOf(0, start);
    return d.toString('utf8', start, nul >= 0 && nul < end ? nul : end);
  };
  switch (f.kind) {
    case 'array':
      return (d) => text(d, offset, size);
    case 'data_loc':
      return (d) => {
        const loc = d.readUInt32LE(offset);
        return text(d, loc & 0xffff, loc >>> 16);
      };
    case 'rel_loc':
      return (d) => {
        const loc = d.readUInt32LE(offset);
        return text(d, offset + size + (loc & 0xffff), loc >>> 16);
      };
    default:
      // `char buf[]` of a dynamic size (ftrace print) is an array of size 0: read to the end.
      throw new Error(`field '${f.name}' is not a string`);
  }
}
