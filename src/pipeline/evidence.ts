// pipeline/: whether a capture can stand as evidence that nobody used IMDSv1 (pure: stats in, reasons out).

import type { CaptureFileResult } from '../capture/pcap-file.js';
import { linkTypeName } from '../decode/link.js';
import type { WarningEvent } from '../contract/output-events.js';
import type { PipelineStats } from './pipeline.js';

/**
 * Drop reasons that mean a request may be missing: a client stream given up on, an
 * answer whose request was never seen, request bytes left waiting for a hole at the
 * close, a frame to or from IMDS that would not decode.
 */
const LOSSES = ['http_request_', 'http_response_without_request', 'tcp_request_bytes_unfilled_at_close', 'imds_frame_undecodable'];

/**
 * Why what was captured cannot say that no process used IMDSv1, or null: the
 * kernel dropped packets, or a client's byte stream had to be given up (bytes
 * lost, a head that is not HTTP or over the limits), so requests may be missing.
 * A verdict of "safe" on such a capture is what breaks a client on enforce.
 */
export function captureLosses(stats: PipelineStats, kernelDrops: number): string | null {
  const lost = Object.entries(stats.dropped).filter(([reason]) => LOSSES.some((prefix) => reason.startsWith(prefix)));
  const parts: string[] = [];
  if (kernelDrops > 0) parts.push(`the kernel dropped ${kernelDrops} packet${kernelDrops === 1 ? '' : 's'}`);
  if (lost.length > 0) {
    const streams = lost.reduce((n, [, count]) => n + count, 0);
    parts.push(`${streams} time${streams === 1 ? '' : 's'} a client's bytes could not be followed (${lost.map(([r, n]) => `${r}=${n}`).join(', ')})`);
  }
  return parts.length === 0 ? null : `${parts.join('; ')}: requests may be missing`;
}

/**
 * What was wrong with a capture file, as warnings, and whether what it held can
 * stand as evidence: a file that is damaged part-way, cut short, has records that
 * had to be skipped, or yields no TCP segment at all cannot say that nobody used IMDSv1.
 */
export function fileProblems(
  path: string,
  result: CaptureFileResult,
  stats: PipelineStats,
  linkTypes: number[],
): { warnings: Array<Pick<WarningEvent, 'code' | 'message'>>; notEvidence: string | null } {
  const warnings: Array<Pick<WarningEvent, 'code' | 'message'>> = [];
  let notEvidence: string | null = null;
  const note = (code: string, message: string): void => {
    warnings.push({ code, message });
    notEvidence ??= message;
  };
  if (result.damage !== null) {
    const { offset, record, reason } = result.damage;
    note('PCAP_DAMAGED', `${path} is damaged at byte ${offset} (${result.format === 'pcap' ? 'record' : 'block'} ${record}: ${reason}); the rest of it was not read`);
  }
  const skipped = Object.entries(result.skipped);
  if (skipped.length > 0) {
    const total = skipped.reduce((n, [, count]) => n + count, 0);
    note('PCAP_RECORDS_SKIPPED', `${path}: ${total} packet block${total === 1 ? '' : 's'} could not be read (${skipped.map(([reason, n]) => `${n} ${reason.replace(/_/g, ' ')}`).join(', ')}); requests in them may be missing`);
  }
  if (result.captureDrops > 0) {
    note('PCAP_CAPTURE_DROPS', `${path}: the capture recorded ${result.captureDrops} packet${result.captureDrops === 1 ? '' : 's'} dropped (interface statistics): requests may be missing`);
  }
  if (result.truncated) {
    note('PCAP_TRUNCATED', `${path} ends inside a record (cut short?): the last packet is lost, requests in it may be missing`);
  }
  if (result.frames === 0) {
    if (result.damage === null && skipped.length === 0) note('PCAP_EMPTY', `${path} holds no packet: there is nothing to analyse`);
  } else if (stats.segments === 0) {
    const names = linkTypes.map((t) => `${linkTypeName(t)} (${t})`).join(', ');
    note('PCAP_UNDECODABLE', `none of the ${result.frames} packets in ${path} could be decoded as TCP over ${names}: is the file's link type right?`);
  }
  return { warnings, notEvidence };
}
