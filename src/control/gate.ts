// control/: pure: the safety gate of `enforce` — long enough observation, no gaps, no IMDSv1 caller (or no caller at all).

import { CONTAINER_HOP_LIMIT } from './metadata-options.js';
import type { Observation, ObservedProcess } from './observation.js';

export interface GateOptions {
  nowMs: number;
  /** The window that must be observed and clean: the last `minObservationMs`. */
  minObservationMs: number;
  /** A stop of the agent longer than this inside the window refuses (a reboot is shorter). */
  maxGapMs: number;
  /** `require-tokens`: no IMDSv1 call in the window. `disable-endpoint`: no IMDS call at all. */
  mode: 'require-tokens' | 'disable-endpoint';
  /** The hop limit that will be set (container token requests need 2 behind a bridge). */
  hopLimit: number;
}

/** The gate's answer: `ok`, or each reason it refuses, with the processes that block. */
export interface GateResult {
  ok: boolean;
  mode: GateOptions['mode'];
  windowStart: string;
  reasons: string[];
  /** IMDSv1 callers (require-tokens) or any callers (disable-endpoint) inside the window. */
  offenders: ObservedProcess[];
  /** Processes whose token answers were lost at the hop limit inside the window. */
  hopLimitFailures: ObservedProcess[];
}

/** `1h30m`, `45s`: durations for gate messages. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', !d && !h && s % 60 ? `${s % 60}s` : ''].filter(Boolean);
  return parts.join('') || '0s';
}

function inWindow(time: string | null, windowStartMs: number): boolean {
  return time !== null && Date.parse(time) >= windowStartMs;
}

/** `name (12 IMDSv1, last 2026-11-23T10:01:02Z)`: what a process did that the gate names it for. */
export function describeOffender(p: ObservedProcess, what: 'imdsv1' | 'calls' | 'hop-limit'): string {
  if (what === 'imdsv1') return `${p.name} (${p.v1} IMDSv1, last ${p.lastV1Seen ?? '?'})`;
  if (what === 'hop-limit') return `${p.name} (${p.hopLimitExceeded ?? '?'} lost, last ${p.lastHopLimitExceeded ?? '?'})`;
  return `${p.name} (${p.v1 + p.v2Token + p.v2Get + p.foreignProbes} calls, last ${p.lastSeen ?? '?'})`;
}

/** Processes whose container token answers were lost at the hop limit since `windowStartMs`. */
export function hopLimitFailuresSince(observation: Observation, windowStartMs: number): ObservedProcess[] {
  return observation.processes.filter((p) => inWindow(p.lastHopLimitExceeded, windowStartMs));
}

/** Decides whether the observation allows the change. Pure: the clock is `nowMs`. */
export function evaluateGate(observation: Observation, options: GateOptions): GateResult {
  const windowStartMs = options.nowMs - options.minObservationMs;
  const result: GateResult = { ok: false, mode: options.mode, windowStart: new Date(windowStartMs).toISOString(), reasons: [], offenders: [], hopLimitFailures: [] };
  const required = formatDuration(options.minObservationMs);
  if (observation.observingSince === null || observation.lastUpdate === null) {
    result.reasons.push(`the agent has not observed this instance (nothing in ${observation.location}); run imds-sniff daemon for at least ${required} first`);
    return result;
  }
  const sinceMs = Date.parse(observation.observingSince);
  if (sinceMs > windowStartMs) {
    result.reasons.push(`observed for ${formatDuration(options.nowMs - sinceMs)} only, ${required} required (--min-observation)`);
  }
  if (observation.gapsCompleteSince !== null && Date.parse(observation.gapsCompleteSince) > windowStartMs) {
    result.reasons.push(`the agent's record of its own stops goes back to ${observation.gapsCompleteSince} only (older stops were not kept): ${required} of complete observation required`);
  }
  // Only the part of a gap inside the window counts; "not observing now" is the gap since the last update.
  const tooLong = (gap: { from: string; to: string }): boolean =>
    Math.min(Date.parse(gap.to), options.nowMs) - Math.max(Date.parse(gap.from), windowStartMs) > options.maxGapMs;
  for (const gap of observation.gaps.filter(tooLong)) {
    result.reasons.push(`the agent was not observing from ${gap.from} to ${gap.to} (${formatDuration(Date.parse(gap.to) - Date.parse(gap.from))})`);
  }
  const sinceLastUpdate = { from: observation.lastUpdate, to: new Date(options.nowMs).toISOString() };
  if (tooLong(sinceLastUpdate)) {
    result.reasons.push(`the agent has not observed since ${sinceLastUpdate.from} (is imds-sniff daemon running?)`);
  }
  const { mode } = options;
  // require-tokens reads IMDSv1 times only: a probe for another cloud's path is never one (classify/foreign-probe.ts).
  result.offenders = observation.processes.filter((p) => inWindow(mode === 'require-tokens' ? p.lastV1Seen : p.lastSeen, windowStartMs));
  if (result.offenders.length > 0) {
    const what = mode === 'require-tokens' ? 'IMDSv1 calls' : 'IMDS calls (--disable-endpoint needs none)';
    result.reasons.push(`${what} in the last ${required} by: ${result.offenders.map((p) => describeOffender(p, mode === 'require-tokens' ? 'imdsv1' : 'calls')).join(', ')}`);
  }
  result.hopLimitFailures = hopLimitFailuresSince(observation, windowStartMs);
  if (mode === 'require-tokens' && result.hopLimitFailures.length > 0 && options.hopLimit < CONTAINER_HOP_LIMIT) {
    result.reasons.push(
      `token requests of ${result.hopLimitFailures.map((p) => p.name).join(', ')} were lost at the hop limit: hop limit ${options.hopLimit} would break them (leave --hop-limit out, or set 2)`,
    );
  }
  result.ok = result.reasons.length === 0;
  return result;
}
