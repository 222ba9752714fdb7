// control/: what the host check after a change found, as report lines, and a failed check as its error (exit 7).

import type { VerifyResult } from '../aws/imds-verify.js';
import { VerifyFailedError } from '../errors.js';

const shown = (status: number | null): string => (status === null ? 'no answer' : String(status));

/** `verify  IMDSv1 GET → 401 (expected 401) ok` lines, or why there was no check. */
export function verificationLines(v: VerifyResult | null): string[] {
  if (v === null) return ['verify        skipped: not this host (run imds-sniff status on the instance to see its answers)'];
  return [
    `verify        IMDSv1 GET (no token) → ${shown(v.v1.status)} (expected ${v.v1.expected}) ${v.v1.status === v.v1.expected ? 'ok' : 'WRONG'}`,
    `              IMDSv2 GET (token)    → ${shown(v.v2.status)} (expected ${v.v2.expected}) ${v.v2.status === v.v2.expected ? 'ok' : 'WRONG'}`,
  ];
}

/** The error of a host check that failed (exit 7), or null when it passed or did not run. */
export function verificationFailure(v: VerifyResult | null, instanceId: string): VerifyFailedError | null {
  if (v === null || v.ok) return null;
  return new VerifyFailedError(`EC2 applied the change to ${instanceId}, but IMDS on this host still answers IMDSv1 ${shown(v.v1.status)}, IMDSv2 ${shown(v.v2.status)} after ${Math.round(v.waited_ms / 1000)} s`, {
    hint: 'run imds-sniff status in a minute; if it persists, imds-sniff rollback',
  });
}
