// Fuzz harness: turns HTTP exchanges into one TCP connection's SLL frames (test/helpers/packet-builder.ts),
// each message cut into segments at random points, with the other side's ACKs in between.

import { LinkType } from '../../src/decode/link.js';
import { TcpFlag } from '../../src/decode/segment.js';
import { concat } from '../helpers/capture-file-builder.js';
import { sllFrame } from '../helpers/packet-builder.js';
import { frameLayout, rebuildFrame, type FrameLayout } from './frame-layout.js';
import type { FuzzFrame } from './fuzz-session.js';
import type { HttpExchangeBytes } from './hostile-http.js';
import type { Prng } from './prng.js';

/** One connection to build. */
export interface ConnectionSpec {
  client: string;
  clientPort: number;
  server: string;
  /** Initial sequence numbers (any 32-bit value: some runs wrap around 2^32). */
  clientIsn: number;
  serverIsn: number;
  exchanges: HttpExchangeBytes[];
  /** All requests first, then all answers (HTTP pipelining); else request, answer, request … */
  pipelined: boolean;
  /** Largest payload of one segment (cut points are random below it). */
  maxSegmentBytes: number;
  /** Probability of an extra cut at a random point inside each message. */
  cutProbability: number;
  /** TTL / hop limit of the server's packets. */
  responseTtl: number;
  startUs: number;
  ending: 'fin' | 'rst' | 'none';
}

/** Cuts `bytes` into pieces: at most `maxBytes` each, plus random cuts. */
function cut(bytes: Uint8Array, spec: ConnectionSpec, rng: Prng): Uint8Array[] {
  if (bytes.length === 0) return [];
  const points = new Set<number>();
  for (let at = spec.maxSegmentBytes; at < bytes.length; at += spec.maxSegmentBytes) points.add(at);
  while (rng.chance(spec.cutProbability) && points.size < 64) points.add(rng.between(1, Math.max(1, bytes.length - 1)));
  const sorted = [...points].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const p of [...sorted, bytes.length]) {
    pieces.push(bytes.subarray(from, p));
    from = p;
  }
  return pieces;
}

/**
 * The frames of one connection in wire order: handshake, the exchanges (each
 * data segment answered by a pure ACK from the other side, which in a live
 * capture overwrites the reused buffer right after it), then the ending.
 */
export function buildConnection(spec: ConnectionSpec, rng: Prng): FuzzFrame[] {
  const frames: FuzzFrame[] = [];
  let cseq = spec.clientIsn >>> 0;
  let sseq = spec.serverIsn >>> 0;
  let t = spec.startUs;
  const tick = (): number => (t += rng.between(10, 2000));
  // packet-builder makes one frame per direction; every segment is that frame with its own payload,
  // seq, ack and flags (building each from the address strings again costs more than the pipeline).
  const clientTemplate = template(sllFrame({ src: spec.client, dst: spec.server, sport: spec.clientPort, dport: 80, seq: 0, flags: 0 }));
  const serverTemplate = template(sllFrame({ src: spec.server, dst: spec.client, sport: 80, dport: spec.clientPort, seq: 0, flags: 0, ttl: spec.responseTtl }));
  const fromClient = (flags: number, payload: Uint8Array = EMPTY): void => {
    frames.push({ bytes: segment(clientTemplate, payload, cseq, sseq, flags), timestampUs: tick() });
    cseq = (cseq + payload.length + (flags & (TcpFlag.SYN | TcpFlag.FIN) ? 1 : 0)) >>> 0;
  };
  const fromServer = (flags: number, payload: Uint8Array = EMPTY): void => {
    frames.push({ bytes: segment(serverTemplate, payload, sseq, cseq, flags), timestampUs: tick() });
    sseq = (sseq + payload.length + (flags & (TcpFlag.SYN | TcpFlag.FIN) ? 1 : 0)) >>> 0;
  };
  const send = (from: 'client' | 'server', message: Uint8Array): void => {
    for (const piece of cut(message, spec, rng)) {
      if (from === 'client') {
        fromClient(TcpFlag.ACK | TcpFlag.PSH, piece);
        fromServer(TcpFlag.ACK);
      } else {
        fromServer(TcpFlag.ACK | TcpFlag.PSH, piece);
        fromClient(TcpFlag.ACK);
      }
    }
  };

  fromClient(TcpFlag.SYN);
  fromServer(TcpFlag.SYN | TcpFlag.ACK);
  fromClient(TcpFlag.ACK);
  if (spec.pipelined) {
    send('client', concat(spec.exchanges.map((e) => e.request)));
    send('server', concat(spec.exchanges.flatMap((e) => (e.response ? [e.response] : []))));
  } else {
    for (const exchange of spec.exchanges) {
      send('client', exchange.request);
      if (exchange.response) send('server', exchange.response);
    }
  }
  if (spec.ending === 'fin') {
    fromClient(TcpFlag.FIN | TcpFlag.ACK);
    fromServer(TcpFlag.FIN | TcpFlag.ACK);
    fromClient(TcpFlag.ACK);
  } else if (spec.ending === 'rst') {
    fromServer(TcpFlag.RST | TcpFlag.ACK);
  }
  return frames;
}

const EMPTY = new Uint8Array(0);

interface Template {
  frame: Uint8Array;
  layout: FrameLayout;
}

function template(frame: Uint8Array): Template {
  const layout = frameLayout(LinkType.LINUX_SLL, frame);
  if (!layout) throw new Error('packet-builder made a frame the harness cannot read');
  return { frame, layout };
}

function segment(t: Template, payload: Uint8Array, seq: number, ack: number, flags: number): Uint8Array {
  const bytes = rebuildFrame(t.frame, t.layout, payload, { seq, ack, flags });
  if (!bytes) throw new Error(`segment of ${payload.length} bytes does not fit an IP packet`);
  return bytes;
}

