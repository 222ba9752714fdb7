// Pure: the records in one ring-buffer page read from per_cpu/cpuN/trace_pipe_raw.

import type { EventHeaderLayout, PageLayout } from './format.js';

/** The page's commit word carries these flags above the length (kernel ring_buffer.c). */
const MISSED_EVENTS = 0x80000000;
const MISSED_STORED = 0x40000000;
const LENGTH_MASK = 0x3fffffff;
/** time_delta is 27 bits; a TIME_EXTEND/TIME_STAMP record holds the rest in its array word. */
const TS_SHIFT = 27n;
/** A TIME_STAMP record holds the low 59 bits of an absolute time; the page supplies the rest. */
const ABS_TS_MASK = (1n << 59n) - 1n;

/** What a page said besides its records. */
export interface PageSummary {
  records: number;
  /** Events the kernel dropped before this page (overwritten or not stored); -1 when it only flagged a loss. */
  missedEvents: number;
  /** Bytes that did not form a whole record (a damaged page), 0 normally. */
  damagedBytes: number;
}

/**
 * Calls `onRecord(timestampNs, data)` for each data record of `page` in order; `data` is a
 * view into `page`, valid only during the call. Padding and time records are applied, not
 * passed on. Lengths are checked against the page, so a damaged page ends early.
 */
export function decodePage(
  page: Buffer,
  layout: PageLayout,
  header: EventHeaderLayout,
  onRecord: (timestampNs: bigint, data: Buffer) => void,
): PageSummary {
  const pageTs = page.readBigUInt64LE(layout.timestampOffset);
  const commitWord = page.readUInt32LE(layout.commitOffset);
  const length = commitWord & LENGTH_MASK;
  const start = layout.dataOffset;
  const end = Math.min(start + length, start + layout.dataSize, page.length);
  let missedEvents = 0;
  if (commitWord & MISSED_EVENTS) {
    missedEvents = -1;
    // The count, when stored, is an unsigned long right after the committed data.
    const countAt = start + length;
    if (commitWord & MISSED_STORED && countAt + layout.commitSize <= page.length) {
      missedEvents = layout.commitSize === 8 ? Number(page.readBigUInt64LE(countAt)) : page.readUInt32LE(countAt);
    }
  }
  let ts = pageTs;
  let off = start;
  let records = 0;
  /** Where the record being walked starts: a walk that breaks off counts from here. */
  let at = off;
  while (off + 4 <= end) {
    at = off;
    const word = page.readUInt32LE(off);
    const typeLen = word & 0x1f;
    const delta = word >>> 5;
    off += 4;
    if (typeLen === header.padding) {
      if (delta === 0) return { records, missedEvents, damagedBytes: 0 }; // the rest of the page is empty
      if (off + 4 > end) break;
      ts += BigInt(delta);
      off += page.readUInt32LE(off); // a discarded record: its length counts from after the header word
      continue;
    }
    if (typeLen === header.timeExtend || typeLen === header.timeStamp) {
      if (off + 4 > end) break;
      const value = (BigInt(page.readUInt32LE(off)) << TS_SHIFT) + BigInt(delta);
      ts = typeLen === header.timeExtend ? ts + value : (pageTs & ~ABS_TS_MASK) | (value & ABS_TS_MASK);
      off += 4;
      continue;
    }
    let dataLength: number;
    if (typeLen === 0) {
      if (off + 4 > end) break;
      dataLength = page.readUInt32LE(off) - 4; // the length word counts itself
      off += 4;
      if (dataLength < 0) break;
    } else if (typeLen <= header.maxDataTypeLen) {
      dataLength = typeLen * 4;
    } else {
      break; // a type this reader does not know: the page cannot be walked further
    }
    if (off + dataLength > end) break;
    ts += BigInt(delta);
    onRecord(ts, page.subarray(off, off + dataLength));
    records++;
    off += (dataLength + 3) & ~3;
    at = off;
  }
  return { records, missedEvents, damagedBytes: Math.max(0, end - at) };
}
