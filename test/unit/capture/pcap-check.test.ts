import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPcap } from '../../../src/capture/pcap-check.js';
import { bpfFilterFor } from '../../../src/capture/bpf-filter.js';
import { IMDS_ENDPOINTS } from '../../../src/capture/endpoints.js';

const curl = new Uint8Array(readFileSync(new URL('../../../fixtures/pcap/curl.pcap', import.meta.url)));
const check = (bytes: Uint8Array) => checkPcap(bytes.length, (offset, length) => bytes.subarray(offset, offset + length));

describe('checkPcap', () => {
  it('walks every record of a whole capture', () => {
    expect(check(curl)).toEqual({ format: 'pcap', records: 30, truncated: false });
  });

  it('says a capture cut anywhere inside its records is truncated', () => {
    for (const cut of [30, 40, 41, 1000, curl.length - 1]) {
      expect(check(curl.subarray(0, cut))).toMatchObject({ format: 'pcap', truncated: true });
    }
  });

  it('reads big-endian captures', () => {
    const be = new Uint8Array(24);
    new DataView(be.buffer).setUint32(0, 0xa1b2c3d4, false);
    expect(check(be)).toEqual({ format: 'pcap', records: 0, truncated: false });
  });

  it.each([
    ['pcapng', new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0]), { format: 'pcapng', records: null, truncated: false }],
    ['text', new TextEncoder().encode('# imds-sniff\n'), 'not a pcap or pcapng file'],
    ['empty', new Uint8Array(0), 'too short to be a capture'],
  ])('%s', (_name, bytes, expected) => {
    expect(check(bytes)).toEqual(expected);
  });
});

describe('bpfFilterFor', () => {
  it('keeps both directions of IMDS over IPv4 and IPv6', () => {
    expect(bpfFilterFor(IMDS_ENDPOINTS)).toBe('(host 169.254.169.254 and tcp port 80) or (ip6 host fd00:ec2::254 and tcp port 80)');
  });
});
