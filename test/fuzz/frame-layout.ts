// Fuzz harness: finds the IP/TCP headers and payload inside a frame, and rebuilds a frame with another
// payload or sequence number, so mutators can aim at the HTTP bytes and keep TCP consistent.

/** Where the parts of one TCP frame are. Offsets index the frame's bytes. */
export interface FrameLayout {
  ipOffset: number;
  version: 4 | 6;
  tcpOffset: number;
  /** First payload byte. */
  payloadOffset: number;
  /** Just past the last payload byte present in the frame (IP length, capped by what was captured). */
  payloadEnd: number;
}

const LINK_ETHERNET = 1;
const LINK_RAW = 101;
const LINK_SLL = 113;
const LINK_IPV4 = 228;
const LINK_IPV6 = 229;
const LINK_SLL2 = 276;

function ipOffsetOf(linkType: number, frame: Uint8Array): number | null {
  switch (linkType) {
    case LINK_ETHERNET:
      return frame.length >= 14 ? 14 : null;
    case LINK_SLL:
      return frame.length >= 16 ? 16 : null;
    case LINK_SLL2:
      return frame.length >= 20 ? 20 : null;
    case LINK_RAW:
    case LINK_IPV4:
    case LINK_IPV6:
      return 0;
    default:
      return null;
  }
}

/**
 * The layout of an IPv4 or IPv6 (no extension headers) TCP frame, or null for
 * anything else (a mutated or foreign frame: mutators then treat it as opaque bytes).
 */
export function frameLayout(linkType: number, frame: Uint8Array): FrameLayout | null {
  const ipOffset = ipOffsetOf(linkType, frame);
  if (ipOffset === null || frame.length < ipOffset + 20) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const version = (frame[ipOffset] as number) >> 4;
  let tcpOffset: number;
  let ipEnd: number;
  if (version === 4) {
    const ihl = ((frame[ipOffset] as number) & 0x0f) * 4;
    if (ihl < 20 || frame[ipOffset + 9] !== 6) return null;
    tcpOffset = ipOffset + ihl;
    ipEnd = ipOffset + view.getUint16(ipOffset + 2);
  } else if (version === 6) {
    if (frame.length < ipOffset + 40 || frame[ipOffset + 6] !== 6) return null;
    tcpOffset = ipOffset + 40;
    ipEnd = tcpOffset + view.getUint16(ipOffset + 4);
  } else {
    return null;
  }
  if (frame.length < tcpOffset + 20) return null;
  const payloadOffset = tcpOffset + ((frame[tcpOffset + 12] as number) >> 4) * 4;
  const payloadEnd = Math.min(ipEnd, frame.length);
  if (payloadOffset < tcpOffset + 20 || payloadOffset > payloadEnd) return null;
  return { ipOffset, version, tcpOffset, payloadOffset, payloadEnd };
}

/** The TCP payload (a view). */
export function payloadOf(frame: Uint8Array, layout: FrameLayout): Uint8Array {
  return frame.subarray(layout.payloadOffset, layout.payloadEnd);
}

/** Source address/port → destination address/port, from the raw header words: one direction of one connection. */
export function flowKey(frame: Uint8Array, layout: FrameLayout): string {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const words = layout.version === 4 ? 1 : 4;
  const srcAt = layout.ipOffset + (layout.version === 4 ? 12 : 8);
  const address = (at: number): string => {
    let text = '';
    for (let i = 0; i < words; i++) text += `${view.getUint32(at + 4 * i).toString(16)}.`;
    return text;
  };
  return `${address(srcAt)}:${view.getUint16(layout.tcpOffset)}>${address(srcAt + 4 * words)}:${view.getUint16(layout.tcpOffset + 2)}`;
}

/** The flow key of the opposite direction of the same connection. */
export function reverseFlowKey(key: string): string {
  const [from = '', to = ''] = key.split('>');
  return `${to}>${from}`;
}

export function readSeq(frame: Uint8Array, layout: FrameLayout): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(layout.tcpOffset + 4);
}

export function readAck(frame: Uint8Array, layout: FrameLayout): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(layout.tcpOffset + 8);
}

/**
 * A new frame with the same link, IP and TCP headers but `payload` as its
 * payload, the IP length fields fixed and, when given, a new sequence number,
 * ack number or TCP flags. Checksums are left stale: a capture on `any` sees offloaded,
 * unfinished checksums anyway, so the decoder must not rely on them.
 * Returns null when the payload would not fit an IP packet.
 */
export function rebuildFrame(
  frame: Uint8Array,
  layout: FrameLayout,
  payload: Uint8Array,
  fields: { seq?: number; ack?: number; flags?: number } = {},
): Uint8Array | null {
  const ipPayloadBytes = layout.payloadOffset - layout.tcpOffset + payload.length;
  const ipHeaderBytes = layout.tcpOffset - layout.ipOffset;
  if ((layout.version === 4 ? ipHeaderBytes + ipPayloadBytes : ipPayloadBytes) > 0xffff) return null;
  const out = new Uint8Array(layout.payloadOffset + payload.length);
  out.set(frame.subarray(0, layout.payloadOffset));
  out.set(payload, layout.payloadOffset);
  const view = new DataView(out.buffer);
  if (layout.version === 4) view.setUint16(layout.ipOffset + 2, ipHeaderBytes + ipPayloadBytes);
  else view.setUint16(layout.ipOffset + 4, ipPayloadBytes);
  if (fields.seq !== undefined) view.setUint32(layout.tcpOffset + 4, fields.seq >>> 0);
  if (fields.ack !== undefined) view.setUint32(layout.tcpOffset + 8, fields.ack >>> 0);
  if (fields.flags !== undefined) out[layout.tcpOffset + 13] = fields.flags;
  return out;
}
