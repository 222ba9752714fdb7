// control/: prints what the host check after a change found, and turns a failed check into exit code 7.

import type { VerifyResult } from '../aws/imds-verify.js';
import { ExitCode, ImdsSniffError, type ExitCodeValue } from '../errors.js';

const shown = (status: number | null): string => (status === null ? 'no answer' : String(status));

/** `verify  IMDSv1 GET → 401 (expected 401) ok` lines, or why there was no check. */
export function verificationLines(v: VerifyResult | null): string[] {
  if (v === null) return ['verify        skipped: not this host (run imds-sniff status on the instance to see its answers)'];
  return [
    `verify        IMDSv1 GET (no token) → ${shown(v.v1.status)} (expected ${v.v1.expected}) ${v.v1.status === v.v1.expected ? 'ok' : 'WRONG'}`,
    `              IMDSv2 GET (token)    → ${shown(v.v2.status)} (expected ${v.v2.expected}) ${v.v2.status === v.v2.expected ? 'ok' : 'WRONG'}`,
  ];
}

/** OK, or exit 7 when IMDS on this host does not answer as the applied options say. */
export function applyVerification(v: VerifyResult | null, instanceId: string): ExitCodeValue {
  if (v === null || v.ok) return ExitCode.OK;
  throw new ImdsSniffError('ERR_VERIFY_FAILED', `EC2 applied the change to ${instanceId}, but IMDS on this host still answers IMDSv1 ${shown(v.v1.status)}, IMDSv2 ${shown(v.v2.status)} after ${Math.round(v.waited_ms / 1000)} s`, {
    exitCode: ExitCode.VERIFY_FAILED,
    hint: 'run imds-sniff status in a minute; if it persists, imds-sniff rollback',
  });
}
