// Fuzz harness: feeds a session's frames to a Pipeline the way live capture does — every frame copied
// into ONE reused capture Buffer, read back with frameFromPcapPacket — or, for reference, as fresh copies.

import type { SocketOwnerFinder } from '../../src/attribute/types.js';
import { frameFromPcapPacket } from '../../src/capture/frame.js';
import type { ImdsRequestEvent } from '../../src/contract/imds-request-event.js';
import { Pipeline, type PipelineOptions, type PipelineStats } from '../../src/pipeline/pipeline.js';
import { CAPTURE_LIMITS } from '../../src/pipeline/session.js';
import { testPipelineOptions } from '../helpers/pipeline-options.js';
import type { FuzzFrame, FuzzSession } from './fuzz-session.js';

/** `reused`: the live-capture path (one Buffer for every packet); `fresh`: a new copy of every frame. */
export type FeedMode = 'reused' | 'fresh';

/** What one session produced. */
export interface FeedResult {
  events: ImdsRequestEvent[];
  /** The pipeline's counters; null when it could not even be built. */
  stats: PipelineStats | null;
  frames: number;
  firstUs: number | null;
  lastUs: number;
  /** Wall-clock time from the first frame to the end of the flush. */
  elapsedMs: number;
  /** What was thrown (message and top of the stack), or null. */
  error: string | null;
}

/** Capture time between two `tick`s, as the agent's one-second ticker. */
const TICK_INTERVAL_US = 1_000_000;

/** The pipeline as the agent builds it, with the production limits; `finder` null is `--read` (no attribution). */
export function fuzzPipelineOptions(linkType: number, onEvent: (event: ImdsRequestEvent) => void, finder: SocketOwnerFinder | null = null): PipelineOptions {
  return testPipelineOptions(onEvent, { linkType, finder });
}

/** What a previous packet may have left in the capture buffer: different every frame, some of it HTTP-like. */
function junkPatterns(length: number): Buffer[] {
  const http = Buffer.from('GET /junk/left/behind HTTP/1.1\r\nUser-Agent: stale-bytes\r\nHost: junk\r\n\r\n', 'latin1');
  return [Buffer.alloc(length, 0xee), Buffer.alloc(length, 0x00), Buffer.alloc(length, http), Buffer.alloc(length, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n')];
}

/**
 * Hands frames over like the pcap package: libpcap copies each packet (up to
 * the snap length) into one Buffer allocated once and passes it, with a
 * 16-byte header (tv_sec, tv_usec, caplen, len; host order), to the callback.
 */
export class CaptureBufferFeeder {
  private readonly buffer: Buffer;
  private readonly header = Buffer.alloc(16);
  private readonly junk: Buffer[];
  private count = 0;

  constructor(readonly snapLengthBytes: number = CAPTURE_LIMITS.snapLengthBytes) {
    this.buffer = Buffer.alloc(snapLengthBytes);
    this.junk = junkPatterns(snapLengthBytes);
  }

  feed(pipeline: Pipeline, frame: FuzzFrame): void {
    const caplen = Math.min(frame.bytes.length, this.buffer.length);
    this.buffer.set(this.junk[this.count++ % this.junk.length] as Buffer);
    this.buffer.set(frame.bytes.subarray(0, caplen));
    this.header.writeUInt32LE(Math.floor(frame.timestampUs / 1_000_000), 0);
    this.header.writeUInt32LE(frame.timestampUs % 1_000_000, 4);
    this.header.writeUInt32LE(caplen, 8);
    this.header.writeUInt32LE(frame.bytes.length, 12);
    const raw = frameFromPcapPacket(this.buffer, this.header);
    pipeline.handleFrame(raw.bytes, raw.timestampUs);
  }
}

/** The reference path: the same captured bytes (cut at the same snap length), each in memory of its own. */
export function feedFreshCopy(pipeline: Pipeline, frame: FuzzFrame, snapLengthBytes: number): void {
  pipeline.handleFrame(frame.bytes.slice(0, Math.min(frame.bytes.length, snapLengthBytes)), frame.timestampUs);
}

/** Feeds frames to `pipeline`, ticking once per second of capture time as the agent does. */
export class FrameFeeder {
  private readonly capture: CaptureBufferFeeder;
  private nextTickUs: number | null = null;
  firstUs: number | null = null;
  lastUs = 0;
  frames = 0;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly mode: FeedMode,
    snapLengthBytes: number = CAPTURE_LIMITS.snapLengthBytes,
  ) {
    this.capture = new CaptureBufferFeeder(snapLengthBytes);
  }

  feed(frame: FuzzFrame): void {
    this.frames += 1;
    this.firstUs ??= frame.timestampUs;
    this.lastUs = Math.max(this.lastUs, frame.timestampUs);
    if (this.mode === 'reused') this.capture.feed(this.pipeline, frame);
    else feedFreshCopy(this.pipeline, frame, this.capture.snapLengthBytes);
    this.nextTickUs ??= frame.timestampUs + TICK_INTERVAL_US;
    if (frame.timestampUs >= this.nextTickUs) {
      this.pipeline.tick(frame.timestampUs);
      this.nextTickUs = frame.timestampUs + TICK_INTERVAL_US;
    }
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}${error.stack ? ` @ ${error.stack.split('\n').slice(1, 4).map((l) => l.trim()).join(' < ')}` : ''}`;
  return String(error);
}

/** Runs one session through a new Pipeline and flushes it; never throws (a throw is reported in `error`). */
export async function feedSession(
  session: FuzzSession,
  mode: FeedMode,
  options: { finder?: SocketOwnerFinder | null; snapLengthBytes?: number } = {},
): Promise<FeedResult> {
  const events: ImdsRequestEvent[] = [];
  const started = performance.now();
  let pipeline: Pipeline | null = null;
  let feeder: FrameFeeder | null = null;
  let error: string | null = null;
  try {
    pipeline = new Pipeline(fuzzPipelineOptions(session.linkType, (e) => events.push(e), options.finder ?? null));
    feeder = new FrameFeeder(pipeline, mode, options.snapLengthBytes);
    for (const frame of session.frames) feeder.feed(frame);
    await pipeline.flush(feeder.lastUs);
  } catch (thrown) {
    error = describeError(thrown);
  }
  return {
    events,
    stats: pipeline?.stats ?? null,
    frames: feeder?.frames ?? 0,
    firstUs: feeder?.firstUs ?? null,
    lastUs: feeder?.lastUs ?? 0,
    elapsedMs: performance.now() - started,
    error,
  };
}
