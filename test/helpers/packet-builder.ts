// Test helper: builds real wire-format frames (Linux cooked / Ethernet, IPv4 / IPv6, TCP) byte by byte.

import { LinkType } from '../../src/decode/link.js';
import { TcpFlag } from '../../src/decode/segment.js';

export interface FrameSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags?: number;
  ttl?: number;
  payload?: Uint8Array | string;
}

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

function ipv6Bytes(text: string): number[] {
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = [...h, ...Array<string>(tail === undefined ? 0 : 8 - h.length - t.length).fill('0'), ...t].map((w) => parseInt(w, 16));
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** An IP packet (v4 or v6 by the address form) carrying one TCP segment. */
export function ipPacket(spec: FrameSpec): Uint8Array {
  const payload = typeof spec.payload === 'string' ? new TextEncoder().encode(spec.payload) : (spec.payload ?? new Uint8Array(0));
  const tcp = new Uint8Array(20 + payload.length);
  const tv = new DataView(tcp.buffer);
  tv.setUint16(0, spec.sport);
  tv.setUint16(2, spec.dport);
  tv.setUint32(4, spec.seq >>> 0);
  tv.setUint32(8, (spec.ack ?? 0) >>> 0);
  tcp[12] = 5 << 4;
  tcp[13] = spec.flags ?? TcpFlag.ACK | (payload.length ? TcpFlag.PSH : 0);
  tv.setUint16(14, 65535);
  tcp.set(payload, 20);
  const v6 = spec.src.includes(':');
  if (!v6) {
    const ip = new Uint8Array(20 + tcp.length);
    const v = new DataView(ip.buffer);
    ip[0] = 0x45;
    v.setUint16(2, ip.length);
    ip[8] = spec.ttl ?? 64;
    ip[9] = 6;
    ip.set(ipv4Bytes(spec.src), 12);
    ip.set(ipv4Bytes(spec.dst), 16);
    ip.set(tcp, 20);
    return ip;
  }
  const ip = new Uint8Array(40 + tcp.length);
  const v = new DataView(ip.buffer);
  ip[0] = 0x60;
  v.setUint16(4, tcp.length);
  ip[6] = 6;
  ip[7] = spec.ttl ?? 64;
  ip.set(ipv6Bytes(spec.src), 8);
  ip.set(ipv6Bytes(spec.dst), 24);
  ip.set(tcp, 40);
  return ip;
}

/** The same packet behind a 16-byte Linux cooked (SLL) header, as captured on `any`. */
export function sllFrame(spec: FrameSpec): Uint8Array {
  const ip = ipPacket(spec);
  const frame = new Uint8Array(16 + ip.length);
  new DataView(frame.buffer).setUint16(14, spec.src.includes(':') ? 0x86dd : 0x0800);
  frame.set(ip, 16);
  return frame;
}

/** Ethernet II framing. */
export function ethernetFrame(spec: FrameSpec): Uint8Array {
  const ip = ipPacket(spec);
  const frame = new Uint8Array(14 + ip.length);
  new DataView(frame.buffer).setUint16(12, spec.src.includes(':') ? 0x86dd : 0x0800);
  frame.set(ip, 14);
  return frame;
}

export const SLL = LinkType.LINUX_SLL;

/**
 * A whole client conversation as SLL frames: handshake, the given request and
 * response byte strings each as one segment, FIN both ways. Returns frames in
 * wire order with timestamps 1 ms apart.
 */
export function conversation(opts: {
  client: string;
  cport: number;
  server?: string;
  isn?: number;
  serverIsn?: number;
  exchanges: Array<{ request: string; response?: string }>;
  responseTtl?: number;
  startUs?: number;
}): Array<{ frame: Uint8Array; timestampUs: number }> {
  const server = opts.server ?? '169.254.169.254';
  let cseq = opts.isn ?? 1000;
  let sseq = opts.serverIsn ?? 5000;
  let t = opts.startUs ?? 1_700_000_000_000_000;
  const out: Array<{ frame: Uint8Array; timestampUs: number }> = [];
  const c = (flags: number, payload = '') => {
    out.push({ frame: sllFrame({ src: opts.client, dst: server, sport: opts.cport, dport: 80, seq: cseq, ack: sseq, flags, payload }), timestampUs: (t += 1000) });
    cseq += payload.length + (flags & (TcpFlag.SYN | TcpFlag.FIN) ? 1 : 0);
  };
  const s = (flags: number, payload = '') => {
    out.push({
      frame: sllFrame({ src: server, dst: opts.client, sport: 80, dport: opts.cport, seq: sseq, ack: cseq, flags, payload, ttl: opts.responseTtl }),
      timestampUs: (t += 1000),
    });
    sseq += payload.length + (flags & (TcpFlag.SYN | TcpFlag.FIN) ? 1 : 0);
  };
  c(TcpFlag.SYN);
  s(TcpFlag.SYN | TcpFlag.ACK);
  c(TcpFlag.ACK);
  for (const ex of opts.exchanges) {
    c(TcpFlag.ACK | TcpFlag.PSH, ex.request);
    if (ex.response !== undefined) s(TcpFlag.ACK | TcpFlag.PSH, ex.response);
  }
  c(TcpFlag.FIN | TcpFlag.ACK);
  s(TcpFlag.FIN | TcpFlag.ACK);
  c(TcpFlag.ACK);
  return out;
}
