// capture/: the RawFrame every capture source hands to the pipeline.

/** One captured frame. `bytes` may be a reused buffer: copy what you keep. */
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
  return { bytes: buf.subarray(0, caplen), timestampUs: seconds * 1_000_000 + micros };
}
