import { describe, expect, it } from 'vitest';
import { captureLosses, fileProblems } from '../../../src/pipeline/evidence.js';
import type { PipelineStats } from '../../../src/pipeline/pipeline.js';
import type { CaptureFileResult } from '../../../src/capture/pcap-file.js';

const stats = (over: Partial<PipelineStats> = {}): PipelineStats => ({ frames: 10, ipPackets: 10, segments: 10, connections: 1, requests: 1, dropped: {}, attributed: {}, midStream: 0, lookupErrors: 0, firstLookupError: null, ...over });
const whole: CaptureFileResult = { format: 'pcap', records: 10, frames: 10, skipped: {}, damage: null, truncated: false, captureDrops: 0 };

describe('captureLosses', () => {
  it.each([
    ['nothing lost', stats(), 0, null],
    ['response-side trouble only (statuses unknown, requests all there)', stats({ dropped: { http_response_bytes_lost: 2, decode_snaplen_truncated: 5 } }), 0, null],
    ['kernel drops', stats(), 3, 'the kernel dropped 3 packets: requests may be missing'],
    [
      'client streams given up',
      stats({ dropped: { http_request_bytes_lost: 1, http_request_bad_header: 2 } }),
      0,
      "3 times a client's bytes could not be followed (http_request_bytes_lost=1, http_request_bad_header=2): requests may be missing",
    ],
    ['both', stats({ dropped: { http_request_incomplete_head: 1 } }), 1, "the kernel dropped 1 packet; 1 time a client's bytes could not be followed (http_request_incomplete_head=1): requests may be missing"],
    ['an answer whose request was never seen', stats({ dropped: { http_response_without_request: 1 } }), 0, "1 time a client's bytes could not be followed (http_response_without_request=1): requests may be missing"],
    ['request bytes waiting for a hole at the close', stats({ dropped: { tcp_request_bytes_unfilled_at_close: 2 } }), 0, "2 times a client's bytes could not be followed (tcp_request_bytes_unfilled_at_close=2): requests may be missing"],
    ['a frame to IMDS that would not decode', stats({ dropped: { decode_bad_ip_header: 3, imds_frame_undecodable: 3 } }), 0, "3 times a client's bytes could not be followed (imds_frame_undecodable=3): requests may be missing"],
    ['ARP and other traffic that would not decode', stats({ dropped: { decode_not_ip: 9, decode_not_tcp: 4 } }), 0, null],
  ])('%s', (_name, s, kernel, expected) => {
    expect(captureLosses(s, kernel)).toBe(expected);
  });
});

describe('fileProblems', () => {
  it('has nothing to say about a whole, decodable file', () => {
    expect(fileProblems('f.pcap', whole, stats(), [276])).toEqual({ warnings: [], notEvidence: null });
  });

  it.each([
    ['damaged', { ...whole, damage: { offset: 24, record: 1, reason: 'x' } }, stats(), 'PCAP_DAMAGED'],
    ['skipped blocks', { ...whole, format: 'pcapng' as const, skipped: { unknown_interface: 2 } }, stats(), 'PCAP_RECORDS_SKIPPED'],
    ['truncated', { ...whole, truncated: true }, stats(), 'PCAP_TRUNCATED'],
    ['drops recorded by the capture', { ...whole, format: 'pcapng' as const, captureDrops: 14 }, stats(), 'PCAP_CAPTURE_DROPS'],
    ['empty', { ...whole, records: 0, frames: 0 }, stats({ frames: 0, segments: 0 }), 'PCAP_EMPTY'],
    ['undecodable', whole, stats({ segments: 0, ipPackets: 3 }), 'PCAP_UNDECODABLE'],
  ])('a %s file is no evidence', (_name, result, s, code) => {
    const problems = fileProblems('f.pcap', result, s, [1]);
    expect(problems.warnings.map((w) => w.code)).toEqual([code]);
    expect(problems.notEvidence).toBe(problems.warnings[0]?.message);
  });
});
