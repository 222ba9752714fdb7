// Fuzz harness: HTTP-aware mutators — bare CR, NUL, LF and terminal controls inserted into a payload,
// a CRLF turned into a bare CR, and huge or numerous headers added to a head.

import { copySession } from './fuzz-session.js';
import { latin1Bytes } from './hostile-http.js';
import type { Mutator } from './mutators.js';
import { pickPayloadFrame, setPayload, splice } from './session-edit.js';

/** Inserted into payloads: bare line-end pieces, NUL, and terminal controls. */
const INSERTIONS = ['\r', '\r', '\n', '\x00', '\r\n', '\n\n', '\r\r', '\x1b[31m', '\x1b]0;x\x07', '\x9b2J', '\x00\x00\x00\x00', ' ', '\t'];

/** Inserts bare CR, LF, NUL, tab, space or terminal controls into one payload (later sequence numbers moved, mostly). */
export const insertControlsPayload: Mutator = {
  name: 'insert_controls_payload',
  apply(session, rng) {
    const s = copySession(session);
    const target = pickPayloadFrame(s, rng);
    if (!target) return s;
    let payload = target.payload;
    for (let n = rng.between(1, 3); n > 0; n--) payload = splice(payload, rng.int(payload.length + 1), 0, latin1Bytes(rng.pick(INSERTIONS)));
    setPayload(s, target, payload, rng.chance(0.2));
    return s;
  },
};

/** Turns one CRLF into a bare CR. */
export const lineEndToBareCr: Mutator = {
  name: 'line_end_to_bare_cr',
  apply(session, rng) {
    // The next header then hides inside the previous line to a parser that splits on LF only.
    const s = copySession(session);
    const target = pickPayloadFrame(s, rng);
    if (!target) return s;
    const lfs: number[] = [];
    target.payload.forEach((b, i) => b === 0x0a && i > 0 && target.payload[i - 1] === 0x0d && lfs.push(i));
    if (lfs.length === 0) return s;
    setPayload(s, target, splice(target.payload, rng.pick(lfs), 1, new Uint8Array(0)), rng.chance(0.2));
    return s;
  },
};

/** Adds one huge header or many small ones after the first line of a payload. */
export const inflateHeaders: Mutator = {
  name: 'inflate_headers',
  apply(session, rng) {
    const s = copySession(session);
    const target = pickPayloadFrame(s, rng);
    if (!target) return s;
    const lf = target.payload.indexOf(0x0a);
    if (lf < 0) return s;
    const huge = rng.chance(0.5);
    const text = huge
      ? `X-Huge: ${'A'.repeat(rng.pick([2000, 8000, 16_500, 40_000]))}\r\n`
      : Array.from({ length: rng.pick([40, 99, 101, 300]) }, (_, i) => `X-N${i}: ${i}\r\n`).join('');
    setPayload(s, target, splice(target.payload, lf + 1, 0, latin1Bytes(text)), false);
    return s;
  },
};
