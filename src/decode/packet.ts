// decode/: one captured frame → Segment (IPv4/IPv6 + TCP header), or a drop reason.

import { decodeLink } from './link.js';
import { formatIpv4, formatIpv6 } from './ip-address.js';
import type { Segment } from './segment.js';

const PROTO_TCP = 6;
/** IPv6 extension headers we walk over to reach TCP (RFC 8200 §4). */
const IPV6_EXTENSIONS = new Set([0, 43, 60, 51]);
const IPV6_FRAGMENT = 44;

/**
 * A segment, or why there is none: `ip` tells whether the frame held an IP packet
 * at all, `addresses` are its source and destination when they could be read, and
 * `etherType` is what the link layer named instead of IP.
 */
export type DecodeResult = { segment: Segment } | { drop: string; ip: boolean; addresses?: [src: string, dst: string]; etherType?: number };

/**
 * Decodes one frame. `frame` may be pcap's reused buffer, valid only during the
 * capture callback: the returned segment holds no view into it (the payload is
 * copied, once). Never throws on wire input; every malformed case names a reason.
 */
export function decodePacket(linkType: number, frame: Uint8Array, timestampUs: number): DecodeResult {
  const link = decodeLink(linkType, frame);
  if ('drop' in link) return link.etherType === undefined ? { drop: link.drop, ip: false } : { drop: link.drop, ip: false, etherType: link.etherType };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const ip = link.ipOffset;
  let family: 4 | 6;
  let srcIp: string;
  let dstIp: string;
  let ttl: number;
  let tcp: number;
  let end: number;
  if (link.version === 4) {
    if (frame.length < ip + 20) return { drop: 'truncated_ip', ip: false };
    srcIp = formatIpv4(frame, ip + 12);
    dstIp = formatIpv4(frame, ip + 16);
    const ihl = ((frame[ip] as number) & 0x0f) * 4;
    const totalLength = view.getUint16(ip + 2);
    if (ihl < 20 || totalLength < ihl) return { drop: 'bad_ip_header', ip: false, addresses: [srcIp, dstIp] };
    if (frame[ip + 9] !== PROTO_TCP) return { drop: 'not_tcp', ip: true, addresses: [srcIp, dstIp] };
    const fragment = view.getUint16(ip + 6);
    if ((fragment & 0x1fff) !== 0 || (fragment & 0x2000) !== 0) return { drop: 'ip_fragment', ip: true, addresses: [srcIp, dstIp] };
    family = 4;
    ttl = frame[ip + 8] as number;
    tcp = ip + ihl;
    // The IP length rules (it excludes Ethernet padding); bytes past the snap length are padded below.
    end = ip + totalLength;
  } else {
    if (frame.length < ip + 40) return { drop: 'truncated_ip', ip: false };
    family = 6;
    ttl = frame[ip + 7] as number;
    srcIp = formatIpv6(frame, ip + 8);
    dstIp = formatIpv6(frame, ip + 24);
    end = ip + 40 + view.getUint16(ip + 4);
    let next = frame[ip + 6] as number;
    tcp = ip + 40;
    for (let hops = 0; IPV6_EXTENSIONS.has(next) && hops < 8; hops++) {
      if (Math.min(end, frame.length) < tcp + 8) return { drop: 'truncated_ip', ip: false, addresses: [srcIp, dstIp] };
      const length = next === 51 ? ((frame[tcp + 1] as number) + 2) * 4 : ((frame[tcp + 1] as number) + 1) * 8;
      next = frame[tcp] as number;
      tcp += length;
    }
    if (next === IPV6_FRAGMENT) return { drop: 'ip_fragment', ip: true, addresses: [srcIp, dstIp] };
    if (next !== PROTO_TCP) return { drop: 'not_tcp', ip: true, addresses: [srcIp, dstIp] };
  }
  if (Math.min(end, frame.length) < tcp + 20) return { drop: 'truncated_tcp', ip: true, addresses: [srcIp, dstIp] };
  const dataOffset = ((frame[tcp + 12] as number) >> 4) * 4;
  if (dataOffset < 20 || tcp + dataOffset > end) return { drop: 'bad_tcp_header', ip: true, addresses: [srcIp, dstIp] };
  if (tcp + dataOffset > frame.length) return { drop: 'truncated_tcp', ip: true, addresses: [srcIp, dstIp] };
  return {
    segment: {
      timestampUs,
      family,
      srcIp,
      dstIp,
      srcPort: view.getUint16(tcp),
      dstPort: view.getUint16(tcp + 2),
      seq: view.getUint32(tcp + 4),
      ack: view.getUint32(tcp + 8),
      flags: (frame[tcp + 13] as number) & 0x3f,
      ttl,
      payload: payloadOf(frame, tcp + dataOffset, end),
      truncated: end > frame.length,
    },
  };
}

const NO_PAYLOAD = new Uint8Array(0);

/**
 * The payload, copied into memory of its own: the only bytes of a frame that
 * outlive the capture callback (libpcap hands every frame over in one reused
 * Buffer). Not `frame.slice()`: on a Buffer that is a view, not a copy, and the
 * next packet overwrote held bytes (split requests were lost). Bytes the snap
 * length cut off are zero-filled so that sequence numbers stay right: they are
 * body bytes that later stages skip.
 */
function payloadOf(frame: Uint8Array, start: number, end: number): Uint8Array {
  if (end <= start) return NO_PAYLOAD;
  const payload = new Uint8Array(end - start);
  payload.set(frame.subarray(start, Math.min(end, frame.length)));
  return payload;
}
