// Fuzz of the capture-file reader (--read): damaged pcap and pcapng files, read in chunks of every size
// with short reads, must never throw or hang, and must give the same frames however they are chunked.

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { captureFormatOf } from '../../src/capture/capture-file-parser.js';
import { readCaptureFile, type CaptureFileResult, type ReadAt } from '../../src/capture/pcap-file.js';
import { concat, epb, idb, pcapRecords, shb, spb } from '../helpers/capture-file-builder.js';
import { Prng } from './prng.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/pcap/', import.meta.url));
const SEED = 20_251_204;
const INPUTS = 3000;
const MAX_INPUT_MS = 2_000;

/** The recorded captures, and each also as pcapng (enhanced and simple packet blocks). */
const CORPUS: Uint8Array[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.pcap'))
  .sort()
  .flatMap((f) => {
    const file = new Uint8Array(readFileSync(`${FIXTURES}${f}`));
    const { linkType, records } = pcapRecords(file);
    const ng = concat([shb(), idb(linkType), ...records.map((r, i) => (i % 5 === 4 ? spb(r.frame) : epb(0, r.frame, r.timestampUs)))]);
    return [file, ng];
  });

/** Values a damaged length field is likely to hold. */
const HOSTILE_U32 = [0, 1, 3, 12, 13, 16, 0x7fff_fffc, 0xffff_fff0, 0xffff_ffff, 262_145, 327_680];

function mutate(rng: Prng, file: Uint8Array): Uint8Array {
  let out: Uint8Array = file.slice();
  const steps = 1 + rng.int(4);
  for (let s = 0; s < steps; s++) {
    const at = rng.int(Math.max(1, out.length));
    switch (rng.int(6)) {
      case 0: // flip bits anywhere
        for (let i = 0, n = 1 + rng.int(8); i < n; i++) {
          const byte = rng.int(out.length);
          out[byte] = (out[byte] as number) ^ (1 << rng.int(8));
        }
        break;
      case 1: // a hostile 32-bit length where one may be
        new DataView(out.buffer).setUint32(Math.min(at & ~3, out.length - 4), HOSTILE_U32[rng.int(HOSTILE_U32.length)] as number, rng.chance(0.5));
        break;
      case 2: // cut short
        out = out.slice(0, at);
        break;
      case 3: // a range repeated
        out = concat([out.subarray(0, at), out.subarray(at, at + rng.int(300)), out.subarray(at)]);
        break;
      case 4: // zeros inserted
        out = concat([out.subarray(0, at), new Uint8Array(rng.int(64)), out.subarray(at)]);
        break;
      default: // bytes replaced
        out.set(rng.bytes(Math.min(1 + rng.int(16), out.length - at)), at);
    }
    if (out.length < 8) break;
  }
  return out;
}

/** An in-memory file whose reads come back short at random, as a pipe or a slow disk may. */
function memoryReader(file: Uint8Array, rng: Prng | null): ReadAt {
  return async (into, at, length, position) => {
    const want = rng === null ? length : Math.min(length, 1 + rng.int(length));
    const chunk = file.subarray(position, position + want);
    into.set(chunk, at);
    return chunk.length;
  };
}

async function read(file: Uint8Array, reader: ReadAt, chunkBytes: number): Promise<{ result: CaptureFileResult | string; frames: string[] }> {
  const format = captureFormatOf(file.subarray(0, 4));
  if (format !== 'pcap' && format !== 'pcapng') return { result: format, frames: [] };
  const frames: string[] = [];
  // Each frame is copied out during the call: it is a view into the reader's reused buffer.
  const result = await readCaptureFile(reader, format, (frame, linkType) => frames.push(`${linkType} ${frame.timestampUs} ${Buffer.from(frame.bytes).toString('hex')}`), chunkBytes);
  return { result, frames };
}

describe(`capture-file fuzz: ${INPUTS} damaged files (seed ${SEED})`, () => {
  it('never throws or hangs, and reads every file the same in one chunk or many short ones', async () => {
    const failures: string[] = [];
    let damaged = 0;
    for (let index = 0; index < INPUTS; index++) {
      const rng = new Prng(SEED, index);
      const file = mutate(rng, CORPUS[rng.int(CORPUS.length)] as Uint8Array);
      const started = Date.now();
      try {
        const whole = await read(file, memoryReader(file, null), 1024 * 1024);
        const chunked = await read(file, memoryReader(file, rng), 16 + rng.int(4096));
        if (typeof whole.result !== 'string' && whole.result.damage !== null) damaged += 1;
        if (JSON.stringify(whole) !== JSON.stringify(chunked)) failures.push(`index=${index}: chunked read differs`);
      } catch (error) {
        failures.push(`index=${index}: ${String(error)}`);
      }
      if (Date.now() - started > MAX_INPUT_MS) failures.push(`index=${index}: took ${Date.now() - started} ms`);
    }
    expect(failures.slice(0, 5)).toEqual([]);
    // The mutations reach the checks: a good share of the files is found damaged.
    expect(damaged).toBeGreaterThan(INPUTS / 10);
  }, 120_000);
});
