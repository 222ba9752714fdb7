// capture/: parses pcap and pcapng capture files from a window of bytes → records (pure, no I/O).
//
// Written here rather than taken from libpcap's offline reader: through the pcap
// package that reader swallows every error (a damaged record looks like the end of
// the file), reads the whole file in one blocking call, and cannot say where a file
// is damaged. Every length below comes from an untrusted file and is checked before
// it is used.

/** One captured frame of a file. `bytes` is a view into the caller's window, valid only during the callback. */
export interface CaptureRecord {
  linkType: number;
  timestampUs: number;
  bytes: Uint8Array;
  /** Length of the packet on the wire (more than `bytes.length` when the snap length cut it). */
  originalLength: number;
}

/** Where and why a file stops making sense; nothing after it is read. */
export interface CaptureFileDamage {
  /** Byte offset of the record or block that is damaged. */
  offset: number;
  /** 1-based number of that record or block. */
  record: number;
  reason: string;
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** What one `parse` call did with the window it was given. */
export type ParseStep =
  /** `consumed` bytes were used; more bytes are needed (at least `needBytes` from the unconsumed start) to go on. */
  | { kind: 'more'; consumed: number; needBytes: number }
  /** The file is damaged; `consumed` bytes before it were good. */
  | { kind: 'damaged'; consumed: number; damage: CaptureFileDamage };

/** Timestamps after the year 9999 cannot be written as dates: such a packet block is damaged. */
const MAX_TIMESTAMP_US = 253_402_300_799_999_999;

/** The largest packet libpcap accepts for any link type we decode (MAXIMUM_SNAPLEN). */
export const MAX_CAPTURED_LENGTH = 262_144;
/** The largest pcapng block accepted: a maximal packet with generous room for options. */
export const MAX_BLOCK_LENGTH = MAX_CAPTURED_LENGTH + 64 * 1024;

const PCAP_MICROS = 0xa1b2c3d4;
const PCAP_NANOS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;
const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;

const BLOCK_IDB = 1;
const BLOCK_OPB = 2; // obsolete packet block
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const BLOCK_ISB = 5;
const OPTION_ISB_IFDROP = 5;
const OPTION_ISB_OSDROP = 7;
const OPTION_END = 0;
const OPTION_TSRESOL = 9;
const OPTION_TSOFFSET = 14;

interface Interface {
  linkType: number;
  snapLength: number;
  /** Timestamp units per second (if_tsresol; 10^6 by default). */
  unitsPerSecond: number;
  /** if_tsoffset, seconds. */
  offsetSeconds: number;
}

/** Recognises a capture file from its first 4+ bytes, or says why it is not one. */
export function captureFormatOf(head: Uint8Array): CaptureFormat | string {
  if (head.length < 4) return 'too short to be a capture';
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (view.getUint32(0, false) === PCAPNG_SHB) return 'pcapng';
  for (const le of [true, false]) {
    const magic = view.getUint32(0, le);
    if (magic === PCAP_MICROS || magic === PCAP_NANOS) return 'pcap';
  }
  return 'not a pcap or pcapng file';
}

/**
 * Incremental parser over a sliding window: the caller passes the unconsumed
 * bytes of the file (at file offset `offset`), gets records through `onRecord`,
 * and learns how far it got and how much more it needs. Pure: no clock, no I/O.
 */
export class CaptureFileParser {
  /** Records (pcap) or blocks (pcapng) read so far. */
  records = 0;
  /** Records skipped whole although the file went on, by reason (an EPB naming an interface that does not exist). */
  readonly skipped: Record<string, number> = {};
  format: CaptureFormat | null = null;
  /** Drops the capturing program recorded (pcapng interface statistics: isb_ifdrop + isb_osdrop), latest per interface and section. */
  private readonly recordedDrops = new Map<string, number>();
  private section = 0;
  private littleEndian = true;
  private pcapUnitsPerSecond = 1_000_000;
  private pcapLinkType = 0;
  private interfaces: Interface[] = [];
  private started = false;

  /** Packets the capturing program said it dropped (pcapng only; classic pcap does not record them). */
  get capturedDrops(): number {
    let total = 0;
    for (const drops of this.recordedDrops.values()) total += drops;
    return total;
  }

  /**
   * Parses whole records from `window` (which starts at file offset `offset`).
   * Never throws on file content.
   */
  parse(window: Uint8Array, offset: number, onRecord: (record: CaptureRecord) => void): ParseStep {
    const view = new DataView(window.buffer, window.byteOffset, window.byteLength);
    let pos = 0;
    if (!this.started) {
      const header = this.parseFileHeader(window, view, offset);
      if (header.kind !== 'ok') return header.step;
      pos = header.consumed;
      this.started = true;
    }
    const step = this.format === 'pcap' ? this.parsePcap(window, view, pos, offset, onRecord) : this.parsePcapng(window, view, pos, offset, onRecord);
    return step;
  }

  private parseFileHeader(window: Uint8Array, view: DataView, offset: number): { kind: 'ok'; consumed: number } | { kind: 'stop'; step: ParseStep } {
    const format = captureFormatOf(window.subarray(0, 4));
    if (format !== 'pcap' && format !== 'pcapng') {
      return window.length < 4 ? { kind: 'stop', step: { kind: 'more', consumed: 0, needBytes: 4 } } : damaged(0, offset, 0, format);
    }
    this.format = format;
    if (format === 'pcapng') return { kind: 'ok', consumed: 0 }; // the section header is a block like the others
    if (window.length < PCAP_HEADER) return { kind: 'stop', step: { kind: 'more', consumed: 0, needBytes: PCAP_HEADER } };
    this.littleEndian = view.getUint32(0, true) === PCAP_MICROS || view.getUint32(0, true) === PCAP_NANOS;
    const magic = view.getUint32(0, this.littleEndian);
    this.pcapUnitsPerSecond = magic === PCAP_NANOS ? 1_000_000_000 : 1_000_000;
    const major = view.getUint16(4, this.littleEndian);
    if (major !== 2) return damaged(0, offset, 0, `unsupported pcap version ${major}.${view.getUint16(6, this.littleEndian)}`);
    // The low 16 bits are the link type; the upper ones carry FCS flags (pcap spec §4).
    this.pcapLinkType = view.getUint32(20, this.littleEndian) & 0xffff;
    return { kind: 'ok', consumed: PCAP_HEADER };
  }

  private parsePcap(window: Uint8Array, view: DataView, start: number, offset: number, onRecord: (r: CaptureRecord) => void): ParseStep {
    const le = this.littleEndian;
    let pos = start;
    while (true) {
      if (window.length - pos < PCAP_RECORD_HEADER) return { kind: 'more', consumed: pos, needBytes: PCAP_RECORD_HEADER };
      const seconds = view.getUint32(pos, le);
      const fraction = view.getUint32(pos + 4, le);
      const captured = view.getUint32(pos + 8, le);
      const original = view.getUint32(pos + 12, le);
      const record = this.records + 1;
      if (captured > MAX_CAPTURED_LENGTH) {
        return damaged(pos, offset, record, `captured length ${captured} is larger than any capture writes (${MAX_CAPTURED_LENGTH})`).step;
      }
      // A record of nothing that was nothing on the wire: zeros where records should be (a sparse or overwritten file).
      if (captured === 0 && original === 0) return damaged(pos, offset, record, 'empty record (zeros where records should be)').step;
      if (window.length - pos < PCAP_RECORD_HEADER + captured) return { kind: 'more', consumed: pos, needBytes: PCAP_RECORD_HEADER + captured };
      this.records = record;
      const dataStart = pos + PCAP_RECORD_HEADER;
      onRecord({
        linkType: this.pcapLinkType,
        timestampUs: seconds * 1_000_000 + Math.floor((fraction * 1_000_000) / this.pcapUnitsPerSecond),
        bytes: window.subarray(dataStart, dataStart + captured),
        originalLength: original,
      });
      pos = dataStart + captured;
    }
  }

  private parsePcapng(window: Uint8Array, view: DataView, start: number, offset: number, onRecord: (r: CaptureRecord) => void): ParseStep {
    let pos = start;
    while (true) {
      if (window.length - pos < 12) return { kind: 'more', consumed: pos, needBytes: 12 };
      const record = this.records + 1;
      const rawType = view.getUint32(pos, false);
      if (rawType === PCAPNG_SHB) {
        // A new section may change the byte order: read it from the byte-order magic.
        const magic = view.getUint32(pos + 8, true);
        if (magic === PCAPNG_BYTE_ORDER) this.littleEndian = true;
        else if (view.getUint32(pos + 8, false) === PCAPNG_BYTE_ORDER) this.littleEndian = false;
        else return damaged(pos, offset, record, 'section header without a byte-order magic').step;
      } else if (this.records === 0) {
        return damaged(pos, offset, record, 'pcapng file does not start with a section header').step;
      }
      const le = this.littleEndian;
      const type = view.getUint32(pos, le);
      const length = view.getUint32(pos + 4, le);
      if (length < 12 || length % 4 !== 0) return damaged(pos, offset, record, `block length ${length} is not a valid pcapng block length`).step;
      if (length > MAX_BLOCK_LENGTH) return damaged(pos, offset, record, `block length ${length} is larger than any capture writes (${MAX_BLOCK_LENGTH})`).step;
      if (window.length - pos < length) return { kind: 'more', consumed: pos, needBytes: length };
      if (view.getUint32(pos + length - 4, le) !== length) return damaged(pos, offset, record, 'block lengths at its start and end differ').step;
      this.records = record;
      const body = window.subarray(pos + 8, pos + length - 4);
      const problem = this.block(type, body, new DataView(body.buffer, body.byteOffset, body.byteLength), onRecord);
      if (problem === 'fatal-version') return damaged(pos, offset, record, 'unsupported pcapng version').step;
      if (problem !== null) this.skipped[problem] = (this.skipped[problem] ?? 0) + 1;
      pos += length;
    }
  }

  /** One pcapng block body; returns why it was skipped, or null. */
  private block(type: number, body: Uint8Array, view: DataView, onRecord: (r: CaptureRecord) => void): string | null {
    const le = this.littleEndian;
    switch (type) {
      case PCAPNG_SHB:
        if (body.length < 16) return 'short_section_header';
        if (view.getUint16(4, le) !== 1) return 'fatal-version';
        this.interfaces = [];
        this.section += 1;
        return null;
      case BLOCK_ISB: {
        if (body.length < 12) return 'short_statistics_block';
        const drops = statisticsDrops(body.subarray(12), le);
        // Counters are cumulative: the last block of an interface has its total.
        if (drops !== null) this.recordedDrops.set(`${this.section}/${view.getUint32(0, le)}`, drops);
        return null;
      }
      case BLOCK_IDB: {
        if (body.length < 8) return 'short_interface_block';
        this.interfaces.push({ linkType: view.getUint16(0, le), snapLength: view.getUint32(4, le), ...timestampOptions(body.subarray(8), le) });
        return null;
      }
      case BLOCK_EPB:
      case BLOCK_OPB: {
        if (body.length < 20) return 'short_packet_block';
        const id = type === BLOCK_EPB ? view.getUint32(0, le) : view.getUint16(0, le);
        const iface = this.interfaces[id];
        if (iface === undefined) return 'unknown_interface';
        const captured = view.getUint32(12, le);
        if (captured > body.length - 20) return 'packet_longer_than_block';
        const time = timestampUs(view.getUint32(4, le), view.getUint32(8, le), iface);
        if (!(time >= 0 && time <= MAX_TIMESTAMP_US)) return 'timestamp_out_of_range';
        onRecord({ linkType: iface.linkType, timestampUs: time, bytes: body.subarray(20, 20 + captured), originalLength: view.getUint32(16, le) });
        return null;
      }
      case BLOCK_SPB: {
        if (body.length < 4) return 'short_packet_block';
        const iface = this.interfaces[0];
        if (iface === undefined) return 'unknown_interface';
        const original = view.getUint32(0, le);
        const captured = Math.min(original, body.length - 4, iface.snapLength === 0 ? Infinity : iface.snapLength);
        onRecord({ linkType: iface.linkType, timestampUs: 0, bytes: body.subarray(4, 4 + captured), originalLength: original });
        return null;
      }
      default:
        return null; // name resolution, statistics, custom blocks: nothing we need
    }
  }
}

/** isb_ifdrop + isb_osdrop from a statistics block's options, or null when it carries neither. */
function statisticsDrops(options: Uint8Array, le: boolean): number | null {
  const view = new DataView(options.buffer, options.byteOffset, options.byteLength);
  let drops: number | null = null;
  for (let pos = 0; pos + 4 <= options.length; ) {
    const code = view.getUint16(pos, le);
    const length = view.getUint16(pos + 2, le);
    if (code === OPTION_END || pos + 4 + length > options.length) break;
    if ((code === OPTION_ISB_IFDROP || code === OPTION_ISB_OSDROP) && length >= 8) drops = (drops ?? 0) + Number(view.getBigUint64(pos + 4, le));
    pos += 4 + length + ((4 - (length % 4)) % 4);
  }
  return drops;
}

/** if_tsresol and if_tsoffset from an interface block's options (bounded walk; a bad option list ends it). */
function timestampOptions(options: Uint8Array, le: boolean): Pick<Interface, 'unitsPerSecond' | 'offsetSeconds'> {
  const view = new DataView(options.buffer, options.byteOffset, options.byteLength);
  let unitsPerSecond = 1_000_000;
  let offsetSeconds = 0;
  for (let pos = 0; pos + 4 <= options.length; ) {
    const code = view.getUint16(pos, le);
    const length = view.getUint16(pos + 2, le);
    if (code === OPTION_END || pos + 4 + length > options.length) break;
    if (code === OPTION_TSRESOL && length >= 1) {
      const v = options[pos + 4] as number;
      const exponent = v & 0x7f;
      // Beyond 10^-15 / 2^-50 a timestamp cannot be held in a double usefully: keep the default.
      if ((v & 0x80) === 0 ? exponent <= 15 : exponent <= 50) unitsPerSecond = (v & 0x80) === 0 ? 10 ** exponent : 2 ** exponent;
    } else if (code === OPTION_TSOFFSET && length >= 8) {
      // No bound here: a packet whose time comes out beyond year 9999 is skipped as damaged.
      offsetSeconds = Number(view.getBigInt64(pos + 4, le));
    }
    pos += 4 + length + ((4 - (length % 4)) % 4);
  }
  return { unitsPerSecond, offsetSeconds };
}

/** A 64-bit timestamp in the interface's units → µs; exact (BigInt) where a double would round, as nanoseconds since 1970 do. */
function timestampUs(high: number, low: number, iface: Interface): number {
  const units = high * 2 ** 32 + low;
  if (iface.unitsPerSecond === 1_000_000 && units <= Number.MAX_SAFE_INTEGER) return units + iface.offsetSeconds * 1_000_000;
  const exact = ((BigInt(high) << 32n) | BigInt(low)) * 1_000_000n;
  return Number(exact / BigInt(Math.round(iface.unitsPerSecond))) + iface.offsetSeconds * 1_000_000;
}

function damaged(pos: number, offset: number, record: number, reason: string): { kind: 'stop'; step: ParseStep } {
  return { kind: 'stop', step: { kind: 'damaged', consumed: pos, damage: { offset: offset + pos, record, reason } } };
}
