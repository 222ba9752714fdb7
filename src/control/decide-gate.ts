// control/: the gate step shared by `status` and `enforce` (instance or launch template): read the observation, decide, refuse or warn.

import { evaluateGate, hopLimitFailuresSince, type GateResult } from './gate.js';
import { hopLimitDecision, type EnforceRequest, type MetadataOptions } from './metadata-options.js';
import type { Observation } from './observation.js';
import { GateRefusedError } from '../errors.js';
import { observe, type ControlContext, type ControlTarget } from './control-context.js';
import { printOutcome, type Report } from './report.js';
import { terminalSafe } from '../text/terminal-safe.js';

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
  /** What enforce asks for, hop-limit failures seen included. */
  request: EnforceRequest;
  /** The hop limit enforce sets, and why when it is not the current one. */
  hop: { hopLimit: number; reason: string | null };
}

const modeOf = (p: GatePlan): GateResult['mode'] => (p.request.disableEndpoint ? 'disable-endpoint' : 'require-tokens');

/** Reads the observation of `target` and runs the gate for the change the plan would make to `current`. */
export async function decideGate(ctx: ControlContext, target: ControlTarget | null, p: GatePlan, current: MetadataOptions): Promise<GateDecision> {
  const nowMs = Date.now();
  const windowStartMs = nowMs - p.minObservationMs;
  const decided = (observation: Observation | null, containerHopFailures: boolean, gateFor: (hopLimit: number) => GateResult): GateDecision => {
    const request = { ...p.request, containerHopFailures };
    const hop = hopLimitDecision(current, request);
    return { observation, gate: gateFor(hop.hopLimit), request, hop };
  };
  const refuse = (reason: string): GateDecision =>
    decided(null, false, () => ({ ok: false, mode: modeOf(p), windowStart: new Date(windowStartMs).toISOString(), reasons: [reason], offenders: [], hopLimitFailures: [] }));
  if (target === null) return refuse('no observation to gate on: run this on an instance launched from the template, or give --instance-id of one');
  let observation: Observation;
  try {
    observation = await observe(ctx, target, windowStartMs, nowMs);
  } catch (error) {
    if (!p.force) throw error;
    return refuse(`the observation could not be read (${(error as Error).message})`);
  }
  const containerHopFailures = hopLimitFailuresSince(observation, windowStartMs).length > 0;
  return decided(observation, containerHopFailures, (hopLimit) =>
    evaluateGate(observation, { nowMs, minObservationMs: p.minObservationMs, maxGapMs: MAX_GAP_MS, mode: modeOf(p), hopLimit }),
  );
}

/** The error of a refusing gate: what blocks, and what to do. */
function gateRefusal(gate: GateResult, lead: string): GateRefusedError {
  const callers = gate.mode === 'require-tokens' ? 'IMDSv1 callers seen' : 'IMDS callers seen (--disable-endpoint needs none)';
  const blocking = gate.offenders.length > 0 ? `${callers}: ${gate.offenders.map((o) => o.name).join(', ')}` : (gate.reasons[0] ?? 'refused');
  return new GateRefusedError('ERR_GATE_REFUSED', `${lead}: ${blocking}; nothing was changed`, {
    hint:
      gate.offenders.length > 0
        ? 'move those processes to IMDSv2 (imds-sniff status lists them); --force overrides the gate'
        : 'let imds-sniff daemon observe for the whole window first (imds-sniff status says what is missing); --force overrides the gate',
  });
}

/** The error a dry run ends with when the real run would be refused (exit 6). */
export function dryRunRefusal(gate: GateResult, what: string): GateRefusedError {
  return gateRefusal(gate, `dry run: the gate would refuse changing ${what}`);
}

/**
 * When the gate refuses: without --force, prints the report (`refused`) and
 * throws GateRefusedError (exit 6); with it, warns on stderr. Returns whether
 * the change goes ahead forced.
 */
export function applyGate(gate: GateResult, force: boolean, what: string, report: Report): boolean {
  if (gate.ok) return false;
  if (!force) {
    const refused = gateRefusal(gate, `not changing ${what}`);
    printOutcome(report, 'refused', { text: 'refused: nothing was changed', error: refused });
    throw refused;
  }
  process.stderr.write(`imds-sniff: warning: --force: ${terminalSafe(`changing ${what} although the gate refuses: ${gate.reasons.join('; ')}`)}\n`);
  return true;
}
