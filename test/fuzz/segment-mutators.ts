// Fuzz harness: TCP-level mutators — segments reordered, duplicated, dropped, split (sequence numbers
// fixed) or merged, and capture time jumping back or past the idle timeout.

import { copySession, type FuzzFrame } from './fuzz-session.js';
import { flowKey, readSeq, rebuildFrame } from './frame-layout.js';
import type { Mutator } from './mutators.js';
import { payloadFrames, pickPayloadFrame, replaceFrame, type PayloadFrame } from './session-edit.js';

/** Shuffles a window of 2–6 consecutive frames. */
export const reorderFrames: Mutator = {
  name: 'reorder_frames',
  apply(session, rng) {
    const s = copySession(session);
    if (s.frames.length < 2) return s;
    const from = rng.int(s.frames.length - 1);
    const window = s.frames.slice(from, from + rng.between(2, 6));
    rng.shuffle(window);
    s.frames.splice(from, window.length, ...window);
    return s;
  },
};

/** Repeats 1–3 frames, right after themselves or later (retransmissions). */
export const duplicateFrames: Mutator = {
  name: 'duplicate_frames',
  apply(session, rng) {
    const s = copySession(session);
    for (let n = rng.between(1, 3); n > 0 && s.frames.length > 0; n--) {
      const index = rng.int(s.frames.length);
      const copy = { ...(s.frames[index] as FuzzFrame) };
      s.frames.splice(rng.chance(0.5) ? index + 1 : rng.between(index + 1, s.frames.length), 0, copy);
    }
    return s;
  },
};

/** Loses 1–3 frames. */
export const dropFrames: Mutator = {
  name: 'drop_frames',
  apply(session, rng) {
    const s = copySession(session);
    for (let n = rng.between(1, 3); n > 0 && s.frames.length > 0; n--) s.frames.splice(rng.int(s.frames.length), 1);
    return s;
  },
};

/** Cuts one segment's payload into up to 8 segments with the right sequence numbers, sometimes out of order. */
export const splitSegment: Mutator = {
  name: 'split_segment',
  apply(session, rng) {
    const s = copySession(session);
    const target = pickPayloadFrame(s, rng);
    if (!target || target.payload.length < 2) return s;
    const frame = s.frames[target.index] as FuzzFrame;
    const seq = readSeq(frame.bytes, target.layout);
    const cuts = [...new Set(Array.from({ length: rng.between(1, 7) }, () => rng.between(1, target.payload.length - 1)))].sort((a, b) => a - b);
    const pieces: FuzzFrame[] = [];
    let from = 0;
    for (const to of [...cuts, target.payload.length]) {
      const bytes = rebuildFrame(frame.bytes, target.layout, target.payload.subarray(from, to), { seq: seq + from });
      if (!bytes) return s;
      pieces.push({ bytes, timestampUs: frame.timestampUs + pieces.length });
      from = to;
    }
    s.frames.splice(target.index, 1, ...(rng.chance(0.3) ? rng.shuffle(pieces) : pieces));
    return s;
  },
};

/** Joins two consecutive segments of one direction into one (what a capture with GRO sees). */
export const mergeSegments: Mutator = {
  name: 'merge_segments',
  apply(session, rng) {
    const s = copySession(session);
    const all = payloadFrames(s);
    const candidates: Array<[PayloadFrame, PayloadFrame]> = [];
    for (let i = 0; i < all.length; i++) {
      const a = all[i] as PayloadFrame;
      const aFrame = s.frames[a.index] as FuzzFrame;
      const next = all.slice(i + 1).find((b) => flowKey((s.frames[b.index] as FuzzFrame).bytes, b.layout) === flowKey(aFrame.bytes, a.layout));
      if (next && readSeq((s.frames[next.index] as FuzzFrame).bytes, next.layout) === ((readSeq(aFrame.bytes, a.layout) + a.payload.length) >>> 0)) candidates.push([a, next]);
    }
    if (candidates.length === 0) return s;
    const [a, b] = rng.pick(candidates);
    const merged = new Uint8Array(a.payload.length + b.payload.length);
    merged.set(a.payload);
    merged.set(b.payload, a.payload.length);
    const bytes = rebuildFrame((s.frames[a.index] as FuzzFrame).bytes, a.layout, merged);
    if (!bytes) return s;
    replaceFrame(s, a.index, bytes);
    s.frames.splice(b.index, 1);
    return s;
  },
};

/** Moves the capture time of one frame, or of all from one on, back or past the idle timeout. */
export const timeWarp: Mutator = {
  name: 'time_warp',
  apply(session, rng) {
    const s = copySession(session);
    if (s.frames.length === 0) return s;
    const index = rng.int(s.frames.length);
    const shiftUs = rng.pick([-10_000_000, -1, 31_000_000, 120_000_000, 3_600_000_000]);
    const onlyOne = rng.chance(0.5);
    for (let i = index; i < (onlyOne ? index + 1 : s.frames.length); i++) {
      const frame = s.frames[i] as FuzzFrame;
      s.frames[i] = { bytes: frame.bytes, timestampUs: Math.max(0, frame.timestampUs + shiftUs) };
    }
    return s;
  },
};
