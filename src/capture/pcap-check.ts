// capture/: checks a capture file before libpcap reads it: is it pcap/pcapng, and is its last record whole?

/** What the file's own structure says. */
export interface PcapCheck {
  format: 'pcap' | 'pcapng';
  /** Records whose header and data are complete (classic pcap only; null for pcapng). */
  records: number | null;
  /** The file ends inside a record (tcpdump killed, copy cut short): that record is lost. */
  truncated: boolean;
}

const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xa1b23c4d]); // microsecond, nanosecond
const PCAPNG_MAGIC = 0x0a0d0d0a;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

/**
 * Walks the record headers of a classic pcap file (bytes read through
 * `read(offset, length)`), or recognises pcapng. Returns a reason string when
 * the file is no capture at all. Pure apart from the reader it is given.
 */
export function checkPcap(size: number, read: (offset: number, length: number) => Uint8Array): PcapCheck | string {
  if (size < 4) return 'too short to be a capture';
  const head = read(0, Math.min(size, GLOBAL_HEADER));
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (view.getUint32(0, false) === PCAPNG_MAGIC) return { format: 'pcapng', records: null, truncated: false };
  let littleEndian: boolean;
  if (PCAP_MAGICS.has(view.getUint32(0, true))) littleEndian = true;
  else if (PCAP_MAGICS.has(view.getUint32(0, false))) littleEndian = false;
  else return 'not a pcap or pcapng file';
  if (size < GLOBAL_HEADER) return { format: 'pcap', records: 0, truncated: true };
  let offset = GLOBAL_HEADER;
  let records = 0;
  while (offset < size) {
    if (offset + RECORD_HEADER > size) return { format: 'pcap', records, truncated: true };
    const rec = read(offset, RECORD_HEADER);
    const capturedLength = new DataView(rec.buffer, rec.byteOffset, rec.byteLength).getUint32(8, littleEndian);
    offset += RECORD_HEADER + capturedLength;
    if (offset > size) return { format: 'pcap', records, truncated: true };
    records += 1;
  }
  return { format: 'pcap', records, truncated: false };
}
