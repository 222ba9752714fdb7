// Test side: ring-buffer pages and formats recorded by scripts/record-tracefs.mjs, per kernel, and a
// TraceEventSource that replays events to the finder.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventsOfPage, pageSize, type PageDecoding } from '../../src/attribute/tracefs/page-events.js';
import { createRecordDecoder } from '../../src/attribute/tracefs/record-decoder.js';
import { checkTracefsSupport } from '../../src/attribute/tracefs/support.js';
import type { TraceEvent, TraceEventSource } from '../../src/attribute/tracefs/trace-events.js';

const ROOT = fileURLToPath(new URL('../../fixtures/proc/tracefs/', import.meta.url));

/** One client the recorder ran, as clients.json lists it. */
export interface RecordedClient {
  label: string;
  family: 4 | 6;
  pid: number;
  tid: number;
  srcPort: number;
  comm: string;
  srcIp: string;
  dstIp: string;
}

export interface RecordedKernel {
  kernel: string;
  dir: string;
  decoding: PageDecoding;
  /** The raw bytes read from each CPU's trace_pipe_raw. */
  pages: Map<number, Buffer>;
  clients: RecordedClient[];
  recorderPid: number;
}

/** Kernel release names with a recording (the directories holding clients.json). */
export function recordedKernels(): string[] {
  return readdirSync(ROOT).filter((name) => existsSync(path.join(ROOT, name, 'clients.json'))).sort();
}

/** Loads one recording through the same support check and decoder the agent uses. */
export async function loadRecordedKernel(kernel: string): Promise<RecordedKernel> {
  const dir = path.join(ROOT, kernel);
  const support = await checkTracefsSupport(dir);
  if (!support.formats || !support.page || !support.header) throw new Error(`${kernel}: ${support.missing.join(', ')}`);
  const pages = new Map<number, Buffer>();
  const perCpu = path.join(dir, 'per_cpu');
  for (const name of existsSync(perCpu) ? readdirSync(perCpu) : []) {
    const cpu = Number(/^cpu(\d+)$/.exec(name)?.[1]);
    if (Number.isInteger(cpu)) pages.set(cpu, readFileSync(path.join(perCpu, name, 'trace_pipe_raw')));
  }
  const meta = JSON.parse(readFileSync(path.join(dir, 'clients.json'), 'utf8')) as { clients: RecordedClient[]; recorder_pid: number };
  return {
    kernel,
    dir,
    decoding: { page: support.page, header: support.header, decode: createRecordDecoder(support.formats) },
    pages,
    clients: meta.clients,
    recorderPid: meta.recorder_pid,
  };
}

/** Each CPU's events, page by page, as the instance's readers would deliver them. */
export function pageBatches(rec: RecordedKernel): { cpu: number; events: TraceEvent[] }[] {
  const batches: { cpu: number; events: TraceEvent[] }[] = [];
  const size = pageSize(rec.decoding.page);
  for (const [cpu, bytes] of rec.pages) {
    for (let off = 0; off + size <= bytes.length; off += size) {
      batches.push({ cpu, events: eventsOfPage(bytes.subarray(off, off + size), cpu, rec.decoding) });
    }
  }
  return batches;
}

/** Feeds events to the finder instead of a tracefs instance. */
export class ReplaySource implements TraceEventSource {
  readonly notes = ['replay'];
  readonly failure = null;
  closed = false;
  private onEvents: ((events: TraceEvent[]) => void) | null = null;
  stream(onEvents: (events: TraceEvent[]) => void): void {
    this.onEvents = onEvents;
  }
  push(...events: TraceEvent[]): void {
    this.onEvents?.(events);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}
