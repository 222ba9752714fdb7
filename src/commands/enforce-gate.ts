// commands/: the gate step shared by `enforce` on an instance and on a launch template: read the observation, decide, refuse or warn.

import { evaluateGate, hopLimitFailuresSince, type GateResult } from '../control/gate.js';
import type { EnforceRequest } from '../control/metadata-options.js';
import type { Observation } from '../control/observation.js';
import { GateRefusedError } from '../errors.js';
import { observe, type ControlContext, type ControlTarget } from './control-context.js';

/** The longest agent stop allowed inside the window: a reboot is shorter. */
export const MAX_GAP_MS = 10 * 60_000;

/** The flags, checked and parsed. */
export interface EnforcePlan {
  minObservationMs: number;
  timeoutMs: number;
  request: Omit<EnforceRequest, 'containerHopFailures'>;
  force: boolean;
  dryRun: boolean;
}

/** What the gate step needs of the plan (status asks the same questions without a change to make). */
export type GatePlan = Pick<EnforcePlan, 'minObservationMs' | 'request' | 'force'>;

/** What the gate decided, with the observation it read (null when it could not be read and --force was given). */
export interface GateDecision {
  observation: Observation | null;
  gate: GateResult;
  containerHopFailures: boolean;
}

/** Reads the observation of `target` and runs the gate for the options `desired(containerHopFailures)` would set. */
export async function decideGate(ctx: ControlContext, target: ControlTarget | null, p: GatePlan, hopLimitFor: (containerHopFailures: boolean) => number): Promise<GateDecision> {
  const nowMs = Date.now();
  const windowStartMs = nowMs - p.minObservationMs;
  const refuse = (reason: string): GateDecision => ({
    observation: null,
    gate: { ok: false, windowStart: new Date(windowStartMs).toISOString(), reasons: [reason], offenders: [], hopLimitFailures: [], longGaps: [] },
    containerHopFailures: false,
  });
  if (target === null) return refuse('no observation to gate on: run this on an instance launched from the template, or give --instance-id of one');
  let observation: Observation;
  try {
    observation = await observe(ctx, target, windowStartMs, nowMs);
  } catch (error) {
    if (!p.force) throw error;
    return refuse(`the observation could not be read (${(error as Error).message})`);
  }
  const containerHopFailures = hopLimitFailuresSince(observation, windowStartMs).length > 0;
  const gate = evaluateGate(observation, {
    nowMs,
    minObservationMs: p.minObservationMs,
    maxGapMs: MAX_GAP_MS,
    mode: p.request.disableEndpoint ? 'disable-endpoint' : 'require-tokens',
    hopLimit: hopLimitFor(containerHopFailures),
  });
  return { observation, gate, containerHopFailures };
}

/** Throws GateRefusedError (exit 6) when the gate refuses and --force was not given; warns when it was. */
export function applyGate(gate: GateResult, force: boolean, what: string): void {
  if (gate.ok) return;
  if (!force) {
    const blocking = gate.offenders.length > 0 ? `IMDSv1 callers seen: ${gate.offenders.map((o) => o.name).join(', ')}` : (gate.reasons[0] ?? 'refused');
    throw new GateRefusedError('ERR_GATE_REFUSED', `not changing ${what}: ${blocking}; nothing was changed`, {
      hint: 'move those processes to IMDSv2 (or wait for more observation); --force overrides the gate',
    });
  }
  process.stderr.write(`imds-sniff: warning: --force: changing ${what} although the gate refuses: ${gate.reasons.join('; ')}\n`);
}

