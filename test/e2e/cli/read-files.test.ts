// `--read` on capture files that are damaged, mislabelled, empty or not files at all: never "safe" on no evidence.

import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { concat, epb, idb, pcapFile, pcapngBlock, pcapRecords, shb } from '../../helpers/capture-file-builder.js';
import { expectOneLineError, runCli } from '../../helpers/run-cli.js';

const CURL = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../fixtures/pcap/curl.pcap', import.meta.url))));
const AWS_SDK = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../fixtures/pcap/aws-sdk-js.pcap', import.meta.url))));
const SPLIT = pcapRecords(new Uint8Array(readFileSync(fileURLToPath(new URL('../../../fixtures/pcap/split-head.pcap', import.meta.url)))));
const { linkType: LINK, records } = pcapRecords(CURL);
const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** The records without the first one whose bytes hold `text` (a packet the capture lost). */
function withoutFirst(recs: typeof records, text: string): typeof records {
  const at = recs.findIndex((r) => Buffer.from(r.frame).includes(text));
  return recs.filter((_, i) => i !== at);
}

/** A Linux cooked v2 frame whose IPv4 header length field says 16 bytes (less than the minimum 20). */
function damageIhl(frame: Uint8Array): Uint8Array {
  const copy = frame.slice();
  copy[20] = 0x44;
  return copy;
}

/** A pcapng interface statistics block with isb_ifdrop. */
function isb(id: number, ifdrop: bigint): Uint8Array {
  const body = new Uint8Array(12 + 12 + 4);
  const v = new DataView(body.buffer);
  v.setUint32(0, id, true);
  v.setUint16(12, 5, true);
  v.setUint16(14, 8, true);
  v.setBigUint64(16, ifdrop, true);
  return pcapngBlock(5, body);
}

const NOT_EVIDENCE_HINT = /\n {2}hint: this capture is no evidence that IMDSv2 can be required\n$/;

describe('imds-sniff --read on files that hold no usable evidence: exit 4, said on stderr', () => {
  it.each([
    ['a first record with a captured length of 0xffffffff', () => pcapFile([{ frame: records[0]!.frame, timestampUs: 1, capturedLength: 0xffffffff }], { linkType: LINK }), /is damaged at byte 24 \(record 1: captured length 4294967295 is larger than any capture writes \(262144\)\); the rest of it was not read/],
    ['a pcapng block of length 0', () => concat([shb(), pcapngBlock(6, new Uint8Array(20), { length: 0 })]), /is damaged at byte 28 \(block 2: block length 0 is not a valid pcapng block length\)/],
    ['a pcapng block of length 1', () => concat([shb(), pcapngBlock(6, new Uint8Array(20), { length: 1 })]), /\(block 2: block length 1 is not a valid pcapng block length\)/],
    ['a pcapng block of length 13', () => concat([shb(), pcapngBlock(6, new Uint8Array(20), { length: 13 })]), /\(block 2: block length 13 is not a valid pcapng block length\)/],
    ['a huge pcapng block', () => concat([shb(), idb(LINK), pcapngBlock(6, new Uint8Array(20), { length: 0x7ffffffc })]), /\(block 3: block length 2147483644 is larger than any capture writes/],
    ['pcapng packets naming an interface that does not exist', () => concat([shb(), idb(LINK), ...records.map((r) => epb(3, r.frame, r.timestampUs))]), /: 30 packet blocks could not be read \(30 unknown interface\); requests in them may be missing/],
    ['a Linux-cooked capture relabelled as Ethernet', () => pcapFile(records, { linkType: 1 }), /none of the 30 packets in .* could be decoded as TCP over Ethernet \(1\): is the file's link type right\?/],
    ['a capture relabelled to a link type imds-sniff does not decode', () => pcapFile(records, { linkType: 147 }), /could be decoded as TCP over unsupported link type \(147\)/],
    ['a header and no packet', () => pcapFile([], { linkType: LINK }), /holds no packet: there is nothing to analyse/],
  ])('%s', (name, bytes, message) => {
    const r = runCli(['--read', file(name.replace(/\W+/g, '-'), bytes())]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/verdict: cannot tell whether IMDSv2 can be required: /);
    expect(r.stdout).not.toMatch(/safe to require IMDSv2: no/);
    expectOneLineError(r.stderr, message);
    expect(r.stderr).toMatch(NOT_EVIDENCE_HINT);
  });

  it('says so in the JSON output too: a warning event and the summary', () => {
    const r = runCli(['--read', file('relabelled.pcap', pcapFile(records, { linkType: 1 })), '--format', 'json']);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; code?: string; verdict?: { safe_to_require_imdsv2: boolean }; capture?: { not_evidence: string | null } });
    expect(events.map((e) => e.event)).toEqual(['start', 'warning', 'summary']);
    expect(events[1]?.code).toBe('PCAP_UNDECODABLE');
    expect(events[2]?.verdict?.safe_to_require_imdsv2).toBe(false);
    expect(events[2]?.capture?.not_evidence).toMatch(/could be decoded as TCP over Ethernet/);
    expect(r.code).toBe(4);
  });

  it('refuses a FIFO with no writer at once instead of blocking', () => {
    const fifo = join(dir, 'fifo.pcap');
    execFileSync('mkfifo', [fifo]);
    const r = runCli(['--read', fifo], { timeoutMs: 20_000 });
    expect(r.code).toBe(4);
    expectOneLineError(r.stderr, /cannot read capture file .*fifo\.pcap: a FIFO, not a regular file \[ERR_PCAP_FILE\]\n  hint: write the capture to a file, then read that/);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('stops at once on a sparse 2 GiB file (a valid header, then zeros)', () => {
    const path = file('sparse.pcap', pcapFile([], { linkType: LINK }));
    const fd = openSync(path, 'r+');
    execFileSync('truncate', ['-s', '2G', path]);
    closeSync(fd);
    const r = runCli(['--read', path], { timeoutMs: 20_000 });
    expect(r.code).toBe(4);
    expectOneLineError(r.stderr, /is damaged at byte 24 \(record 1: empty record \(zeros where records should be\)\)/);
    expect(r.ms).toBeLessThan(10_000);
  });
});

describe('imds-sniff --read on files it can read, in part or with quirks', () => {
  it.each([
    ['records longer than the header snap length (caplen > snaplen)', () => pcapFile(records, { linkType: LINK, snapLength: 64 })],
    ['a snap length of 1 in the header', () => pcapFile(records, { linkType: LINK, snapLength: 1 })],
    ['pcapng from tcpdump -i any', () => concat([shb(), idb(LINK), ...records.map((r) => epb(0, r.frame, r.timestampUs))])],
  ])('reads %s: the IMDSv1 call is found, exit 3', (name, bytes) => {
    const r = runCli(['--read', file(name.replace(/\W+/g, '-'), bytes()), '--format', 'json']);
    expect(r.code).toBe(3);
    const kinds = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; kind?: string }).filter((e) => e.event === 'imds_request').map((e) => e.kind);
    expect(kinds).toEqual(['v1', 'v2_token', 'v2_get']);
    expect(r.stderr).toBe('');
  });

  it('reports the IMDSv1 call before the damage and exits 3 (what was seen stands)', () => {
    const damaged = concat([CURL, pcapFile([{ frame: records[0]!.frame, timestampUs: 1, capturedLength: 300_000 }]).subarray(24)]);
    const r = runCli(['--read', file('damaged-after-v1.pcap', damaged)]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/warning: .* is damaged at byte \d+ \(record 31: captured length 300000/);
    expect(r.stdout).toMatch(/verdict: not safe to require IMDSv2: 1 process still uses IMDSv1/);
  });

  it('does not call a capture with only IMDSv2 safe when it is damaged part-way: exit 4', () => {
    const damaged = concat([AWS_SDK, new Uint8Array(64)]);
    const r = runCli(['--read', file('damaged-after-v2.pcap', damaged)]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/verdict: cannot tell whether IMDSv2 can be required: .* is damaged at byte \d+/);
  });

  it.each([
    [
      'a pcapng file whose IMDSv1 exchange sits in blocks naming an unknown interface',
      () => concat([shb(), idb(LINK), ...records.map((r, i) => epb(i < 10 ? 5 : 0, r.frame, r.timestampUs))]),
      /30 packet blocks|10 packet blocks could not be read \(10 unknown interface\)/,
    ],
    [
      'a capture taken with a snap length of 76 bytes (tcpdump -s 76): heads cut off',
      () => pcapFile(records.map((r) => ({ frame: r.frame.slice(0, 76), timestampUs: r.timestampUs, originalLength: r.frame.length })), { linkType: LINK, snapLength: 76 }),
      /times? a client's bytes could not be followed \(.*http_request_incomplete_head=\d+.*\): requests may be missing/,
    ],
    ['a capture with only IMDSv2 that ends inside its last record', () => AWS_SDK.subarray(0, AWS_SDK.length - 10), /ends inside a record \(cut short\?\): the last packet is lost/],
    // What an operator's tcpdump really wrote while the kernel dropped the request (editcap -r … to delete it gives the same).
    ['a capture that lost the IMDSv1 request but has its answer', () => pcapFile(withoutFirst(records, 'GET '), { linkType: LINK }), /http_response_without_request=1/],
    ['a capture that lost the first half of a split head', () => pcapFile(withoutFirst(SPLIT.records, 'GET '), { linkType: SPLIT.linkType }), /tcp_request_bytes_unfilled_at_close=1/],
    ['a capture whose IMDSv1 packets have a damaged IP header', () => pcapFile(records.map((r) => ({ ...r, frame: damageIhl(r.frame) })).map((r, i) => (i < 12 ? r : records[i]!)), { linkType: LINK }), /imds_frame_undecodable=\d+/],
    [
      'a pcapng whose IMDSv1 connection came through an interface labelled with the wrong link type',
      () => concat([shb(), idb(LINK), idb(1), ...records.map((r, i) => epb(i < 12 ? 1 : 0, r.frame, r.timestampUs))]),
      /imds_frame_undecodable=\d+/,
    ],
    [
      'a pcapng whose capture recorded dropped packets',
      () => concat([shb(), idb(LINK), ...pcapRecords(AWS_SDK).records.map((r) => epb(0, r.frame, r.timestampUs)), isb(0, 14n)]),
      /the capture recorded 14 packets dropped \(interface statistics\)/,
    ],
  ])('does not call %s safe: exit 4', (name, bytes, message) => {
    const r = runCli(['--read', file(name.replace(/\W+/g, '-').slice(0, 60), bytes())]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/verdict: cannot tell whether IMDSv2 can be required/);
    expect(r.stderr).toMatch(message);
  });

  it('escapes terminal controls in a file name, in the table and on stderr', () => {
    const evil = file('evil-\u001b[31mred\u0007.pcap', CURL);
    const table = runCli(['--read', evil]);
    expect(table.code).toBe(3);
    expect(table.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(table.stdout).toContain('evil-\\x1b[31mred\\x07.pcap');
    const missing = runCli(['--read', join(dir, 'gone-\u001b]0;title\u0007.pcap')]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(missing.stderr).toContain('gone-\\x1b]0;title\\x07.pcap');
  });
});
