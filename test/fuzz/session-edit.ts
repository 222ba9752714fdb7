// Fuzz harness: the edits mutators share — find payload frames, replace one, change bytes in place of
// it, and keep the TCP sequence numbers of later segments consistent after a payload changed length.

import type { FuzzFrame, FuzzSession } from './fuzz-session.js';
import { flowKey, frameLayout, payloadOf, readAck, readSeq, rebuildFrame, reverseFlowKey, type FrameLayout } from './frame-layout.js';
import type { Prng } from './prng.js';

/** Bytes that matter to an HTTP or TCP parser, tried more often than random ones. */
const INTERESTING_BYTES = [0x00, 0x0a, 0x0d, 0x20, 0x09, 0x3a, 0x1b, 0x7f, 0x80, 0x9b, 0xff, 0x30, 0x39];

/** A frame with TCP payload, where it is in the session and in the frame. */
export interface PayloadFrame {
  index: number;
  layout: FrameLayout;
  payload: Uint8Array;
}

/** The frames that carry TCP payload. */
export function payloadFrames(session: FuzzSession): PayloadFrame[] {
  const out: PayloadFrame[] = [];
  session.frames.forEach((frame, index) => {
    const layout = frameLayout(session.linkType, frame.bytes);
    if (layout && layout.payloadEnd > layout.payloadOffset) out.push({ index, layout, payload: payloadOf(frame.bytes, layout) });
  });
  return out;
}

/** A payload frame, sent to port 80 (a request: the HTTP heads matter most) with probability 0.7 when there is one. */
export function pickPayloadFrame(session: FuzzSession, rng: Prng): PayloadFrame | null {
  const all = payloadFrames(session);
  if (all.length === 0) return null;
  const requests = all.filter((p) => destinationPort((session.frames[p.index] as FuzzFrame).bytes, p.layout) === 80);
  return requests.length > 0 && rng.chance(0.7) ? rng.pick(requests) : rng.pick(all);
}

function destinationPort(frame: Uint8Array, layout: FrameLayout): number {
  return (((frame[layout.tcpOffset + 2] as number) << 8) | (frame[layout.tcpOffset + 3] as number)) >>> 0;
}

/** Puts `bytes` in place of frame `index`, keeping its timestamp. */
export function replaceFrame(session: FuzzSession, index: number, bytes: Uint8Array): void {
  const old = session.frames[index] as FuzzFrame;
  session.frames[index] = { bytes, timestampUs: old.timestampUs };
}

/**
 * After `delta` bytes were inserted into frame `index`'s payload, later
 * segments of the same direction move their sequence numbers, and the other
 * direction its acks, so the stream stays contiguous.
 */
function shiftLaterSequence(session: FuzzSession, index: number, delta: number): void {
  const origin = session.frames[index] as FuzzFrame;
  const layout = frameLayout(session.linkType, origin.bytes);
  if (!layout || delta === 0) return;
  const flow = flowKey(origin.bytes, layout);
  const reverse = reverseFlowKey(flow);
  for (let j = index + 1; j < session.frames.length; j++) {
    const frame = session.frames[j] as FuzzFrame;
    const l = frameLayout(session.linkType, frame.bytes);
    if (!l) continue;
    const key = flowKey(frame.bytes, l);
    const payload = payloadOf(frame.bytes, l);
    if (key === flow) {
      const rebuilt = rebuildFrame(frame.bytes, l, payload, { seq: readSeq(frame.bytes, l) + delta });
      if (rebuilt) replaceFrame(session, j, rebuilt);
    } else if (key === reverse) {
      const rebuilt = rebuildFrame(frame.bytes, l, payload, { ack: readAck(frame.bytes, l) + delta });
      if (rebuilt) replaceFrame(session, j, rebuilt);
    }
  }
}

/** Replaces frame `target.index`'s payload by `payload`, moving later sequence numbers unless `keepSeq`. */
export function setPayload(session: FuzzSession, target: PayloadFrame, payload: Uint8Array, keepSeq: boolean): void {
  const frame = session.frames[target.index] as FuzzFrame;
  const rebuilt = rebuildFrame(frame.bytes, target.layout, payload);
  if (!rebuilt) return;
  replaceFrame(session, target.index, rebuilt);
  if (!keepSeq) shiftLaterSequence(session, target.index, payload.length - target.payload.length);
}

/** `bytes` with `remove` bytes at `at` replaced by `insert` (a new array). */
export function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

/** A copy of `bytes` with `count` bytes in [from, to) passed through `change`. */
export function changeBytes(bytes: Uint8Array, from: number, to: number, count: number, rng: Prng, change: (b: number) => number): Uint8Array {
  const out = bytes.slice();
  if (to <= from) return out;
  for (let i = 0; i < count; i++) {
    const at = rng.between(from, to - 1);
    out[at] = change(out[at] as number) & 0xff;
  }
  return out;
}

/** Flips one random bit. */
export const flipBit = (rng: Prng) => (b: number) => b ^ (1 << rng.int(8));
/** A byte a parser cares about (CR, LF, NUL, colon, ESC, C1 …) or a random one. */
export const replaceByte = (rng: Prng) => () => (rng.chance(0.6) ? rng.pick(INTERESTING_BYTES) : rng.int(256));
