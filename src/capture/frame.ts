// capture/: the RawFrame every capture source hands to the pipeline.

/**
 * One captured frame. `bytes` is a view into the capture's one reused buffer,
 * valid only until the callback returns: decode/ copies the payload, the only
 * part kept, and nothing else may hold on to it.
 */
export interface RawFrame {
  bytes: Uint8Array;
  /** Capture time, microseconds since the Unix epoch. */
  timestampUs: number;
}

/** Reads the 16-byte header the pcap package fills: tv_sec, tv_usec, caplen, len (host order). */
export function frameFromPcapPacket(buf: Buffer, header: Buffer): RawFrame {
  const seconds = header.readUInt32LE(0);
  const micros = header.readUInt32LE(4);
  const caplen = Math.min(header.readUInt32LE(8), buf.length);
  // A plain Uint8Array view, not a Buffer: Buffer#slice makes views where Uint8Array#slice copies.
  return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, caplen), timestampUs: seconds * 1_000_000 + micros };
}
