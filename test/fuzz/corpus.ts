// Fuzz harness: the corpus — the recorded captures in fixtures/pcap, and synthetic sessions of hostile
// HTTP connections (IPv4 and IPv6) built from a PRNG.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LinkType } from '../../src/decode/link.js';
import type { FuzzFrame, FuzzSession } from './fuzz-session.js';
import { HOSTILE_GENERATORS, type HostileGenerator } from './hostile-http.js';
import { pcapRecords } from '../helpers/capture-file-builder.js';
import type { Prng } from './prng.js';
import { buildConnection } from './session-builder.js';

/** Every `*.pcap` in `directory` (sorted by name), one session each. */
export function loadFixtureSessions(directory: string): FuzzSession[] {
  return readdirSync(directory)
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .map((file) => {
      // Read by the test helper, not by src/capture: the harness does not trust the code it tests to read its inputs.
      const capture = pcapRecords(new Uint8Array(readFileSync(join(directory, file))));
      return { name: file, linkType: capture.linkType, frames: capture.records.map((r) => ({ bytes: r.frame, timestampUs: r.timestampUs })) };
    });
}

const V4_CLIENTS = ['10.0.0.2', '10.0.1.17', '172.17.0.2', '192.168.100.5'];
const V6_CLIENTS = ['fd00:ec2::1:2', '2600:1f18:abcd::12', 'fe80::1'];
const SEGMENT_SIZES = [1, 3, 7, 64, 536, 1448, 1448, 1448, 9000, 16_000];
const MAX_PIECES_PER_MESSAGE = 200;

/** One synthetic connection's frames, from `generator`, on the given address family. */
function syntheticConnection(rng: Prng, generator: HostileGenerator, v6: boolean, clientPort: number, startUs: number): FuzzFrame[] {
  const exchanges = generator.make(rng);
  const longest = Math.max(1, ...exchanges.map((e) => Math.max(e.request.length, e.response?.length ?? 0)));
  const wraps = rng.chance(0.15);
  return buildConnection(
    {
      client: v6 ? rng.pick(V6_CLIENTS) : rng.pick(V4_CLIENTS),
      clientPort,
      server: v6 ? 'fd00:ec2::254' : '169.254.169.254',
      // Near 2^32 some runs cross the sequence-number wrap inside the request.
      clientIsn: wraps ? 0xffff_ffff - rng.int(200) : rng.nextUint32(),
      serverIsn: wraps ? 0xffff_ffff - rng.int(200) : rng.nextUint32(),
      exchanges,
      pipelined: generator.pipelined ?? false,
      maxSegmentBytes: Math.max(rng.pick(SEGMENT_SIZES), Math.ceil(longest / MAX_PIECES_PER_MESSAGE)),
      cutProbability: rng.pick([0, 0.3, 0.7, 0.95]),
      responseTtl: rng.pick([64, 64, 255, 1, 63, 127]),
      startUs,
      ending: rng.chance(0.8) ? 'fin' : rng.chance(0.5) ? 'rst' : 'none',
    },
    rng,
  );
}

/**
 * A session of 1–3 connections built from random hostile generators, on IPv4
 * or IPv6, sometimes overlapping in time and sometimes reusing a client port.
 */
export function syntheticSession(rng: Prng): FuzzSession {
  const count = rng.pick([1, 1, 1, 2, 2, 3]);
  const names: string[] = [];
  const frames: FuzzFrame[] = [];
  let startUs = 1_700_000_000_000_000 + rng.int(1_000_000_000);
  let port = rng.between(1024, 65535);
  for (let i = 0; i < count; i++) {
    const generator = rng.pick(HOSTILE_GENERATORS);
    const v6 = rng.chance(0.3);
    names.push(`${generator.name}/${v6 ? 'v6' : 'v4'}`);
    frames.push(...syntheticConnection(rng, generator, v6, port, startUs));
    if (!rng.chance(0.1)) port = rng.between(1024, 65535);
    startUs += rng.chance(0.5) ? rng.int(5_000) : rng.between(5_000, 2_000_000);
  }
  // Overlapping connections interleave on the wire; a stable sort keeps each one's own order.
  frames.sort((a, b) => a.timestampUs - b.timestampUs);
  return { name: `synthetic:${names.join('+')}`, linkType: LinkType.LINUX_SLL, frames };
}
