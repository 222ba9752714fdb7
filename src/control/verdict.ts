// control/: pure: the one-line verdict of `status` — ready, not ready (and why), already enforced.

import type { GateResult } from './gate.js';
import type { MetadataOptions } from './metadata-options.js';

export interface Verdict {
  /** `ready`, `not ready: a, b` or `already enforced`. */
  text: string;
  ready: boolean;
}

/** The verdict for options in force and the gate's answer. */
export function verdictOf(options: MetadataOptions, gate: GateResult): Verdict {
  if (options.httpTokens === 'required' || options.httpEndpoint === 'disabled') return { text: 'already enforced', ready: true };
  if (gate.ok) return { text: 'ready', ready: true };
  if (gate.offenders.length > 0) return { text: `not ready: ${gate.offenders.map((p) => p.name).join(', ')}`, ready: false };
  return { text: `not ready: ${gate.reasons[0] ?? 'unknown'}`, ready: false };
}
