// Fuzz harness: byte-level mutators — truncation, bit flips and byte replacements, anywhere in a frame
// or aimed at the TCP payload, and next to the planted secrets.

import { copySession, type FuzzFrame } from './fuzz-session.js';
import { latin1Bytes } from './hostile-http.js';
import type { Mutator } from './mutators.js';
import { changeBytes, flipBit, payloadFrames, pickPayloadFrame, replaceByte, replaceFrame } from './session-edit.js';

/** How the planted secrets begin (test/fuzz/canaries.ts and the recorded captures' canaries). */
const SECRET_STARTS = ['AQAE', 'ASIA', 'IQoJ', 'FuzzCanary', 'RnV6', 'fixtureCanary'].map((t) => latin1Bytes(t));

function occurrences(haystack: Uint8Array, needle: Uint8Array): number[] {
  const found: number[] = [];
  for (let at = haystack.indexOf(needle[0] as number); at >= 0; at = haystack.indexOf(needle[0] as number, at + 1)) {
    if (needle.every((b, i) => haystack[at + i] === b)) found.push(at);
  }
  return found;
}

/** Cuts one frame short anywhere (inside a header as well as the payload). */
export const truncateFrame: Mutator = {
  name: 'truncate_frame',
  apply(session, rng) {
    const s = copySession(session);
    if (s.frames.length === 0) return s;
    const index = rng.int(s.frames.length);
    const frame = s.frames[index] as FuzzFrame;
    replaceFrame(s, index, frame.bytes.slice(0, rng.int(frame.bytes.length)));
    return s;
  },
};

/** Ends the capture early: the frames after a random point are gone. */
export const truncateSession: Mutator = {
  name: 'truncate_session',
  apply(session, rng) {
    const s = copySession(session);
    s.frames = s.frames.slice(0, rng.int(s.frames.length + 1));
    return s;
  },
};

/** Flips 1–8 bits anywhere in one frame (link, IP and TCP headers included). */
export const bitFlips: Mutator = {
  name: 'bit_flips',
  apply(session, rng) {
    const s = copySession(session);
    if (s.frames.length === 0) return s;
    const index = rng.int(s.frames.length);
    const frame = s.frames[index] as FuzzFrame;
    replaceFrame(s, index, changeBytes(frame.bytes, 0, frame.bytes.length, rng.between(1, 8), rng, flipBit(rng)));
    return s;
  },
};

/** Flips 1–8 bits in one TCP payload, a request more often than not. */
export const bitFlipsPayload: Mutator = {
  name: 'bit_flips_payload',
  apply(session, rng) {
    const s = copySession(session);
    const target = pickPayloadFrame(s, rng);
    if (!target) return s;
    const frame = s.frames[target.index] as FuzzFrame;
    replaceFrame(s, target.index, changeBytes(frame.bytes, target.layout.payloadOffset, target.layout.payloadEnd, rng.between(1, 8), rng, flipBit(rng)));
    return s;
  },
};

/** Replaces 1–6 bytes anywhere in one frame, often by a byte parsers care about. */
export const replaceBytes: Mutator = {
  name: 'replace_bytes',
  apply(session, rng) {
    const s = copySession(session);
    if (s.frames.length === 0) return s;
    const index = rng.int(s.frames.length);
    const frame = s.frames[index] as FuzzFrame;
    replaceFrame(s, index, changeBytes(frame.bytes, 0, frame.bytes.length, rng.between(1, 6), rng, replaceByte(rng)));
    return s;
  },
};

/** Replaces 1–6 bytes in one TCP payload, often by CR, LF, NUL, colon, ESC or a C1 byte. */
export const replaceBytesPayload: Mutator = {
  name: 'replace_bytes_payload',
  apply(session, rng) {
    const s = copySession(session);
    const target = pickPayloadFrame(s, rng);
    if (!target) return s;
    const frame = s.frames[target.index] as FuzzFrame;
    replaceFrame(s, target.index, changeBytes(frame.bytes, target.layout.payloadOffset, target.layout.payloadEnd, rng.between(1, 6), rng, replaceByte(rng)));
    return s;
  },
};

/** Changes 1–3 bytes in or just before a planted secret (its value, its header name or the delimiter). */
export const damageNearSecret: Mutator = {
  name: 'damage_near_secret',
  apply(session, rng) {
    // A byte changed inside a secret, in its header's name or in the delimiter before it: what is left
    // must still be recognised (a scrubber that only knows the exact header or the whole value misses it).
    const s = copySession(session);
    const targets = payloadFrames(s).flatMap((p) => SECRET_STARTS.flatMap((start) => occurrences(p.payload, start).map((at) => ({ p, at }))));
    if (targets.length === 0) return s;
    const { p, at } = rng.pick(targets);
    const from = Math.max(0, at - 30);
    const to = Math.min(p.payload.length, at + 40);
    const frame = s.frames[p.index] as FuzzFrame;
    const offset = p.layout.payloadOffset;
    replaceFrame(s, p.index, changeBytes(frame.bytes, offset + from, offset + to, rng.between(1, 3), rng, rng.chance(0.5) ? flipBit(rng) : replaceByte(rng)));
    return s;
  },
};
