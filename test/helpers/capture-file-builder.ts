// Test helper: writes classic pcap and pcapng files byte by byte (well-formed, or damaged on purpose).

export interface PcapRecordSpec {
  frame: Uint8Array;
  timestampUs: number;
  /** Overrides the record's captured length field (the bytes written stay `frame`). */
  capturedLength?: number;
  originalLength?: number;
}

/** A classic pcap file: 24-byte header, then each record. */
export function pcapFile(records: PcapRecordSpec[], opts: { linkType?: number; snapLength?: number; bigEndian?: boolean; nanoseconds?: boolean } = {}): Uint8Array {
  const le = !opts.bigEndian;
  const header = new Uint8Array(24);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, opts.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, le);
  hv.setUint16(4, 2, le);
  hv.setUint16(6, 4, le);
  hv.setUint32(16, opts.snapLength ?? 262144, le);
  hv.setUint32(20, opts.linkType ?? 113, le);
  const parts: Uint8Array[] = [header];
  for (const r of records) {
    const rec = new Uint8Array(16);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, Math.floor(r.timestampUs / 1_000_000), le);
    const fraction = r.timestampUs % 1_000_000;
    rv.setUint32(4, opts.nanoseconds ? fraction * 1000 : fraction, le);
    rv.setUint32(8, r.capturedLength ?? r.frame.length, le);
    rv.setUint32(12, r.originalLength ?? r.frame.length, le);
    parts.push(rec, r.frame);
  }
  return concat(parts);
}

/** One pcapng block: type, total length, body (padded to 4), total length again. `length` overrides both length fields. */
export function pcapngBlock(type: number, body: Uint8Array, opts: { length?: number; trailingLength?: number; bigEndian?: boolean } = {}): Uint8Array {
  const le = !opts.bigEndian;
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const block = new Uint8Array(total);
  const v = new DataView(block.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, opts.length ?? total, le);
  block.set(body, 8);
  v.setUint32(total - 4, opts.trailingLength ?? opts.length ?? total, le);
  return block;
}

/** Section header block (version 1.0, section length unknown). */
export function shb(opts: { bigEndian?: boolean } = {}): Uint8Array {
  const le = !opts.bigEndian;
  const body = new Uint8Array(16);
  const v = new DataView(body.buffer);
  v.setUint32(0, 0x1a2b3c4d, le);
  v.setUint16(4, 1, le);
  v.setUint16(6, 0, le);
  v.setBigInt64(8, -1n, le);
  return pcapngBlock(0x0a0d0d0a, body, opts);
}

/** Interface description block; `tsresol` is the raw if_tsresol byte (6 = µs, 9 = ns). */
export function idb(linkType: number, opts: { snapLength?: number; tsresol?: number; bigEndian?: boolean } = {}): Uint8Array {
  const le = !opts.bigEndian;
  const options = opts.tsresol === undefined ? new Uint8Array(0) : new Uint8Array([...u16(9, le), ...u16(1, le), opts.tsresol, 0, 0, 0, 0, 0, 0, 0]);
  const body = new Uint8Array(8 + options.length);
  const v = new DataView(body.buffer);
  v.setUint16(0, linkType, le);
  v.setUint32(4, opts.snapLength ?? 262144, le);
  body.set(options, 8);
  return pcapngBlock(1, body, opts);
}

/** Enhanced packet block; `units` is the timestamp in the interface's units (µs by default). */
export function epb(interfaceId: number, frame: Uint8Array, units: number | bigint, opts: { bigEndian?: boolean; capturedLength?: number } = {}): Uint8Array {
  const big = BigInt(units);
  const le = !opts.bigEndian;
  const body = new Uint8Array(20 + ((frame.length + 3) & ~3));
  const v = new DataView(body.buffer);
  v.setUint32(0, interfaceId, le);
  v.setUint32(4, Number(big >> 32n), le);
  v.setUint32(8, Number(big & 0xffffffffn), le);
  v.setUint32(12, opts.capturedLength ?? frame.length, le);
  v.setUint32(16, frame.length, le);
  body.set(frame, 20);
  return pcapngBlock(6, body, opts);
}

/** Simple packet block (interface 0, no timestamp). */
export function spb(frame: Uint8Array, opts: { bigEndian?: boolean } = {}): Uint8Array {
  const body = new Uint8Array(4 + ((frame.length + 3) & ~3));
  new DataView(body.buffer).setUint32(0, frame.length, !opts.bigEndian);
  body.set(frame, 4);
  return pcapngBlock(3, body, opts);
}

/** The records of a classic pcap file (to turn a recorded fixture into pcapng, say). */
export function pcapRecords(file: Uint8Array): { linkType: number; records: PcapRecordSpec[] } {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const le = v.getUint32(0, true) === 0xa1b2c3d4;
  if (!le && v.getUint32(0, false) !== 0xa1b2c3d4) throw new Error('pcapRecords reads microsecond classic pcap only');
  const records: PcapRecordSpec[] = [];
  for (let pos = 24; pos + 16 <= file.length; ) {
    const captured = v.getUint32(pos + 8, le);
    records.push({ timestampUs: v.getUint32(pos, le) * 1_000_000 + v.getUint32(pos + 4, le), frame: file.slice(pos + 16, pos + 16 + captured) });
    pos += 16 + captured;
  }
  return { linkType: v.getUint32(20, le) & 0xffff, records };
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u16(value: number, le: boolean): number[] {
  return le ? [value & 0xff, value >> 8] : [value >> 8, value & 0xff];
}
