// control/: pure: the one-line verdict of `status` — ready, not ready (and why), already enforced.

import type { GateResult } from './gate.js';
import { CONTAINER_HOP_LIMIT, type MetadataOptions } from './metadata-options.js';

export interface Verdict {
  /** `ready`, `not ready: a, b`, `already enforced` or `already enforced, but …`. */
  text: string;
  ready: boolean;
}

/** The verdict for options in force and the gate's answer. */
export function verdictOf(options: MetadataOptions, gate: GateResult): Verdict {
  if (options.httpEndpoint === 'disabled') return { text: 'already enforced', ready: true };
  if (options.httpTokens === 'required') {
    // Required tokens with hop limit 1: those containers cannot get a token any more.
    if (gate.hopLimitFailures.length > 0 && options.hopLimit < CONTAINER_HOP_LIMIT) {
      const names = gate.hopLimitFailures.map((p) => p.name).join(', ');
      return { text: `already enforced, but container token requests are lost at hop limit ${options.hopLimit}: ${names} (imds-sniff enforce raises it to ${CONTAINER_HOP_LIMIT})`, ready: false };
    }
    return { text: 'already enforced', ready: true };
  }
  if (gate.ok) return { text: 'ready', ready: true };
  if (gate.offenders.length > 0) return { text: `not ready: ${gate.offenders.map((p) => p.name).join(', ')}`, ready: false };
  return { text: `not ready: ${gate.reasons[0] ?? 'unknown'}`, ready: false };
}
