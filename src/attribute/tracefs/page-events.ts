// Pure: the finder's events in one ring-buffer page, lost-event notes first.

import type { EventHeaderLayout, PageLayout } from './format.js';
import type { RecordDecoder } from './record-decoder.js';
import { decodePage } from './ring-page.js';
import type { TraceEvent } from './trace-events.js';

/** How to read one CPU's pages: the kernel's layouts and a decoder built from its formats. */
export interface PageDecoding {
  page: PageLayout;
  header: EventHeaderLayout;
  decode: RecordDecoder;
}

/** Decodes `page` (read from `cpu`'s trace_pipe_raw) into events in that CPU's order. */
export function eventsOfPage(page: Buffer, cpu: number, how: PageDecoding): TraceEvent[] {
  return decodeTracePage(page, cpu, how).events;
}

/** The finder's events in `page`, and how many data records it held (what the kernel counts as read). */
export function decodeTracePage(page: Buffer, cpu: number, how: PageDecoding): { events: TraceEvent[]; records: number } {
  const events: TraceEvent[] = [];
  const summary = decodePage(page, how.page, how.header, (ts, data) => {
    const ev = how.decode(data, cpu, ts);
    if (ev) events.push(ev);
  });
  if (summary.missedEvents !== 0) {
    const timestamp = Number(page.readBigUInt64LE(how.page.timestampOffset)) / 1e9;
    events.unshift({ kind: 'lost', cpu, count: summary.missedEvents, timestamp });
  }
  return { events, records: summary.records };
}

/** The size of one page read from trace_pipe_raw. */
export function pageSize(layout: PageLayout): number {
  return layout.dataOffset + layout.dataSize;
}
