// The output type of decode/: one TCP segment with the IP facts the later stages need.

/** TCP flag bits as they stand in the header's 13th byte. */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** One decoded TCP segment. `payload` is a copy: pcap reuses its buffer. */
export interface Segment {
  /** Capture time, microseconds since the Unix epoch. */
  timestampUs: number;
  family: 4 | 6;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** IPv4 TTL or IPv6 hop limit as captured. */
  ttl: number;
  payload: Uint8Array;
  /** The capture's snap length cut the payload; the missing tail is zero-filled. */
  truncated: boolean;
}
