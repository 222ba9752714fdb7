// commands/: checks for the privileges live capture and attribution need, before trying.

import { readFileSync } from 'node:fs';
import { CaptureError } from '../errors.js';

const CAP_NET_RAW = 13;
const CAP_SYS_ADMIN = 21;

/** Effective capability bits of this process (from /proc/self/status), or null when unreadable. */
export function effectiveCapabilities(): bigint | null {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : null;
  } catch {
    return null;
  }
}

export function hasCapability(bit: number, caps: bigint | null = effectiveCapabilities()): boolean {
  return caps !== null && (caps & (1n << BigInt(bit))) !== 0n;
}

/** Throws a one-line CaptureError when packets cannot be captured at all. */
export function assertCanCapture(): void {
  if (hasCapability(CAP_NET_RAW)) return;
  throw new CaptureError('ERR_CAPTURE_PERMISSION', 'capturing packets needs root or CAP_NET_RAW', {
    hint: 'run with sudo, or as the imds-sniff service (see README "Permissions")',
  });
}

/** tracefs attribution needs CAP_SYS_ADMIN (tracefs instances) — otherwise the procfs fallback is used. */
export function canUseTracefs(): boolean {
  return hasCapability(CAP_SYS_ADMIN);
}
