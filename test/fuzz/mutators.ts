// Fuzz harness: the list of mutators (byte-, TCP- and HTTP-level, one module each) and how a few of them
// are chained on one session.

import { bitFlips, bitFlipsPayload, damageNearSecret, replaceBytes, replaceBytesPayload, truncateFrame, truncateSession } from './byte-mutators.js';
import type { FuzzSession } from './fuzz-session.js';
import { inflateHeaders, insertControlsPayload, lineEndToBareCr } from './http-mutators.js';
import type { Prng } from './prng.js';
import { dropFrames, duplicateFrames, mergeSegments, reorderFrames, splitSegment, timeWarp } from './segment-mutators.js';

/** One way to damage a session. Returns a new session; the input is left as it was. */
export interface Mutator {
  name: string;
  apply(session: FuzzSession, rng: Prng): FuzzSession;
}

/** The mutators. The order is part of every input's identity: (seed, index) picks from it, so append only. */
export const MUTATORS: readonly Mutator[] = [
  truncateFrame,
  truncateSession,
  bitFlips,
  bitFlipsPayload,
  replaceBytes,
  replaceBytesPayload,
  insertControlsPayload,
  lineEndToBareCr,
  damageNearSecret,
  reorderFrames,
  duplicateFrames,
  dropFrames,
  splitSegment,
  mergeSegments,
  inflateHeaders,
  timeWarp,
];

/** Applies `count` mutators chosen at random; returns the session and the names applied, in order. */
export function mutateSession(session: FuzzSession, rng: Prng, count: number): { session: FuzzSession; applied: string[] } {
  let current = session;
  const applied: string[] = [];
  for (let i = 0; i < count; i++) {
    const mutator = rng.pick(MUTATORS);
    current = mutator.apply(current, rng);
    applied.push(mutator.name);
  }
  return { session: current, applied };
}
