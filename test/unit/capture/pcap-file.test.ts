// The capture-file reader on real and hand-built files: formats, chunk boundaries, and every kind of damage.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bpfFilterFor } from '../../../src/capture/bpf-filter.js';
import { IMDS_ENDPOINTS } from '../../../src/capture/endpoints.js';
import { openCaptureFile, type CaptureFileResult } from '../../../src/capture/pcap-file.js';
import { concat, epb, idb, pcapFile, pcapngBlock, pcapRecords, shb, spb } from '../../helpers/capture-file-builder.js';

/** An obsolete packet block (type 2): 16-bit interface id and drops count, then as an EPB. */
function opb(interfaceId: number, frame: Uint8Array, units: number): Uint8Array {
  const body = new Uint8Array(20 + ((frame.length + 3) & ~3));
  const v = new DataView(body.buffer);
  v.setUint16(0, interfaceId, true);
  v.setUint32(4, Math.floor(units / 2 ** 32), true);
  v.setUint32(8, units % 2 ** 32, true);
  v.setUint32(12, frame.length, true);
  v.setUint32(16, frame.length, true);
  body.set(frame, 20);
  return pcapngBlock(2, body);
}

/** An interface block with raw option bytes (code, length, value, padded). */
function idbWithOption(linkType: number, code: number, value: Uint8Array): Uint8Array {
  const options = new Uint8Array(4 + ((value.length + 3) & ~3) + 4);
  const v = new DataView(options.buffer);
  v.setUint16(0, code, true);
  v.setUint16(2, value.length, true);
  options.set(value, 4);
  const body = new Uint8Array(8 + options.length);
  const bv = new DataView(body.buffer);
  bv.setUint16(0, linkType, true);
  bv.setUint32(4, 262144, true);
  body.set(options, 8);
  return pcapngBlock(1, body);
}


const CURL = new Uint8Array(readFileSync(new URL('../../../fixtures/pcap/curl.pcap', import.meta.url)));
const { linkType: CURL_LINK, records: CURL_RECORDS } = pcapRecords(CURL);
const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-pcapfile-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Read {
  result: CaptureFileResult;
  frames: Array<{ linkType: number; timestampUs: number; hex: string }>;
}

async function read(bytes: Uint8Array): Promise<Read> {
  const path = join(dir, `f${n++}`);
  writeFileSync(path, bytes);
  const file = await openCaptureFile(path);
  const frames: Read['frames'] = [];
  const result = await file.read((frame, linkType) => frames.push({ linkType, timestampUs: frame.timestampUs, hex: Buffer.from(frame.bytes).toString('hex') }));
  return { result, frames };
}

const expected = CURL_RECORDS.map((r) => ({ linkType: CURL_LINK, timestampUs: r.timestampUs, hex: Buffer.from(r.frame).toString('hex') }));

describe('openCaptureFile', () => {
  it('reads every record of a recorded capture', async () => {
    const { result, frames } = await read(CURL);
    expect(result).toEqual({ format: 'pcap', records: 30, frames: 30, skipped: {}, damage: null, truncated: false, captureDrops: 0 });
    expect(frames).toEqual(expected);
  });

  it.each([
    ['big-endian pcap', pcapFile(CURL_RECORDS, { linkType: CURL_LINK, bigEndian: true })],
    ['nanosecond pcap', pcapFile(CURL_RECORDS, { linkType: CURL_LINK, nanoseconds: true })],
    ['a snap length of 1 in the header (records longer than it are read whole)', pcapFile(CURL_RECORDS, { linkType: CURL_LINK, snapLength: 1 })],
    ['pcapng', concat([shb(), idb(CURL_LINK), ...CURL_RECORDS.map((r) => epb(0, r.frame, r.timestampUs))])],
    ['pcapng, nanosecond interface', concat([shb(), idb(CURL_LINK, { tsresol: 9 }), ...CURL_RECORDS.map((r) => epb(0, r.frame, BigInt(r.timestampUs) * 1000n))])],
    ['pcapng, big-endian section', concat([shb({ bigEndian: true }), idb(CURL_LINK, { bigEndian: true }), ...CURL_RECORDS.map((r) => epb(0, r.frame, r.timestampUs, { bigEndian: true }))])],
    [
      'pcapng, a second section with its own interfaces',
      concat([shb(), idb(1), idb(CURL_LINK), ...CURL_RECORDS.slice(0, 10).map((r) => epb(1, r.frame, r.timestampUs)), shb(), idb(CURL_LINK), ...CURL_RECORDS.slice(10).map((r) => epb(0, r.frame, r.timestampUs))]),
    ],
  ])('gives the same frames from a %s', async (_name, bytes) => {
    const { result, frames } = await read(bytes);
    expect(result.damage).toBeNull();
    expect(frames).toEqual(expected);
  });

  it('reads obsolete packet blocks', async () => {
    const { frames } = await read(concat([shb(), idb(CURL_LINK), ...CURL_RECORDS.map((r) => opb(0, r.frame, r.timestampUs))]));
    expect(frames).toEqual(expected);
  });

  it('applies if_tsresol in powers of two and if_tsoffset', async () => {
    const offset = new Uint8Array(8);
    new DataView(offset.buffer).setBigInt64(0, 1_000_000_000n, true);
    const r = CURL_RECORDS[0]!;
    const { frames } = await read(
      concat([shb(), idbWithOption(CURL_LINK, 9, new Uint8Array([0x80 | 10])), idbWithOption(CURL_LINK, 14, offset), epb(0, r.frame, 2048), epb(1, r.frame, 5)]),
    );
    // 2048 units of 2^-10 s = 2 s; 5 µs after an offset of 10^9 s.
    expect(frames.map((f) => f.timestampUs)).toEqual([2_000_000, 1_000_000_000_000_005]);
  });

  it('skips packet blocks whose time cannot be a date (a hostile if_tsoffset or timestamp), and reads on', async () => {
    const huge = new Uint8Array(8);
    new DataView(huge.buffer).setBigInt64(0, 2n ** 62n, true);
    const r = CURL_RECORDS[0]!;
    const { result, frames } = await read(concat([shb(), idbWithOption(CURL_LINK, 14, huge), idb(CURL_LINK), epb(0, r.frame, 1), epb(1, r.frame, 2n ** 63n), epb(1, r.frame, 7)]));
    expect(result.skipped).toEqual({ timestamp_out_of_range: 2 });
    expect(frames.map((f) => f.timestampUs)).toEqual([7]);
  });

  it('adds up the drops the capture recorded in its interface statistics (the last block of each interface)', async () => {
    const isb = (id: number, ifdrop: bigint, osdrop: bigint): Uint8Array => {
      const body = new Uint8Array(12 + 12 + 12 + 4);
      const v = new DataView(body.buffer);
      v.setUint32(0, id, true);
      v.setUint16(12, 5, true); // isb_ifdrop
      v.setUint16(14, 8, true);
      v.setBigUint64(16, ifdrop, true);
      v.setUint16(24, 7, true); // isb_osdrop
      v.setUint16(26, 8, true);
      v.setBigUint64(28, osdrop, true);
      return pcapngBlock(5, body);
    };
    const { result } = await read(concat([shb(), idb(CURL_LINK), idb(CURL_LINK), epb(0, CURL_RECORDS[0]!.frame, 1), isb(0, 3n, 1n), isb(0, 10n, 4n), isb(1, 0n, 0n)]));
    expect(result.captureDrops).toBe(14);
  });

  it('gives simple packet blocks the interface-0 link type', async () => {
    const { frames } = await read(concat([shb(), idb(CURL_LINK), spb(CURL_RECORDS[0]!.frame)]));
    expect(frames).toEqual([{ linkType: CURL_LINK, timestampUs: 0, hex: expected[0]!.hex }]);
  });

  it('reads records that straddle its 1 MiB chunks, in a file of several MiB', async () => {
    const many = Array.from({ length: 900 }, () => CURL_RECORDS).flat();
    const bytes = pcapFile(many, { linkType: CURL_LINK });
    expect(bytes.length).toBeGreaterThan(3 * 1024 * 1024);
    const { result, frames } = await read(bytes);
    expect(result).toMatchObject({ records: many.length, damage: null, truncated: false });
    expect(frames.map((f) => f.hex)).toEqual(many.map((r) => Buffer.from(r.frame).toString('hex')));
  });

  it('says a capture cut inside a record is truncated, and keeps what came before', async () => {
    for (const cut of [30, 40, 41, 1000, CURL.length - 1]) {
      const { result, frames } = await read(CURL.subarray(0, cut));
      expect(result).toMatchObject({ truncated: true, damage: null });
      expect(frames).toEqual(expected.slice(0, frames.length));
    }
  });

  const frame = CURL_RECORDS[3]!.frame;
  it.each([
    ['a captured length of 0xffffffff', pcapFile([{ frame, timestampUs: 1, capturedLength: 0xffffffff }]), { offset: 24, record: 1, reason: /captured length 4294967295 is larger/ }],
    ['zeros where records should be (sparse file)', concat([pcapFile([]), new Uint8Array(4096)]), { offset: 24, record: 1, reason: /empty record/ }],
    ['a damaged second record', pcapFile([{ frame, timestampUs: 1 }, { frame, timestampUs: 2, capturedLength: 300_000 }]), { offset: 24 + 16 + frame.length, record: 2, reason: /larger than any capture writes/ }],
    ['a pcap version 3', (() => { const f = pcapFile([]); f[4] = 3; return f; })(), { offset: 0, record: 0, reason: /unsupported pcap version 3/ }],
    ['a pcapng block of length 0', concat([shb(), pcapngBlock(6, new Uint8Array(20), { length: 0 })]), { record: 2, reason: /block length 0 is not a valid pcapng block length/ }],
    ['a pcapng block of length 1', concat([shb(), pcapngBlock(6, new Uint8Array(20), { length: 1 })]), { record: 2, reason: /block length 1 is not a valid pcapng block length/ }],
    ['a pcapng block of length 13', concat([shb(), pcapngBlock(6, new Uint8Array(20), { length: 13 })]), { record: 2, reason: /block length 13 is not a valid pcapng block length/ }],
    ['a huge pcapng block', concat([shb(), pcapngBlock(6, new Uint8Array(20), { length: 0xfffffff0 })]), { record: 2, reason: /block length 4294967280 is larger/ }],
    ['pcapng block lengths that differ', concat([shb(), idb(CURL_LINK), pcapngBlock(6, new Uint8Array(40), { trailingLength: 44 })]), { record: 3, reason: /lengths at its start and end differ/ }],
    ['a pcapng file that does not start with a section header', concat([pcapngBlock(0x0a0d0d0a, new Uint8Array(16)), idb(1)]), { record: 1, reason: /without a byte-order magic/ }],
  ])('stops at %s and says where', async (_name, bytes, damage) => {
    const { result } = await read(bytes);
    expect(result.damage).toMatchObject({ ...damage, reason: expect.stringMatching(damage.reason) });
    expect(result.truncated).toBe(false);
  });

  it('skips a packet block naming an interface that does not exist, and reads on', async () => {
    const { result, frames } = await read(concat([shb(), idb(CURL_LINK), epb(7, frame, 1), epb(0, frame, 2)]));
    expect(result).toMatchObject({ skipped: { unknown_interface: 1 }, damage: null, frames: 1 });
    expect(frames.map((f) => f.timestampUs)).toEqual([2]);
  });

  it('skips a packet block whose captured length overruns the block', async () => {
    const { result } = await read(concat([shb(), idb(CURL_LINK), epb(0, frame, 1, { capturedLength: 5000 })]));
    expect(result).toMatchObject({ skipped: { packet_longer_than_block: 1 }, frames: 0 });
  });

  it.each([
    ['a text file', new TextEncoder().encode('# imds-sniff\n'), /is not a pcap capture file \(not a pcap or pcapng file\)/],
    ['an empty file', new Uint8Array(0), /is not a pcap capture file \(too short to be a capture\)/],
  ])('refuses %s before reading anything', async (_name, bytes, message) => {
    const path = join(dir, `f${n++}`);
    writeFileSync(path, bytes);
    await expect(openCaptureFile(path)).rejects.toMatchObject({ code: 'ERR_PCAP_FILE', message: expect.stringMatching(message) });
  });

  it.each([
    ['a directory', () => dir, /a directory, not a regular file/],
    ['a device (looked at, not opened: opening one can act on it)', () => '/dev/null', /a device, not a regular file/],
  ])('refuses %s', async (_name, path, message) => {
    await expect(openCaptureFile(path())).rejects.toMatchObject({ message: expect.stringMatching(message) });
  });
});

describe('bpfFilterFor', () => {
  it('keeps both directions of IMDS over IPv4 and IPv6', () => {
    expect(bpfFilterFor(IMDS_ENDPOINTS)).toBe('(host 169.254.169.254 and tcp port 80) or (ip6 host fd00:ec2::254 and tcp port 80)');
  });
});
