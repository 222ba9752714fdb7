import { describe, expect, it } from 'vitest';
import { evaluateGate, formatDuration, type GateOptions } from '../../../src/control/gate.js';
import { observationFromMetrics, observationFromState, type Observation, type ObservedProcess } from '../../../src/control/observation.js';
import { verdictOf } from '../../../src/control/verdict.js';
import { EC2_DEFAULT_OPTIONS } from '../../../src/control/metadata-options.js';
import type { AgentState, ProcessTotals } from '../../../src/contract/agent-state.js';

const H = 3_600_000;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const OPTS: GateOptions = { nowMs: NOW, minObservationMs: 24 * H, maxGapMs: 10 * 60_000, mode: 'require-tokens', hopLimit: 1 };

function proc(name: string, over: Partial<ObservedProcess> = {}): ObservedProcess {
  return { name, v1: 0, v2Token: 1, v2Get: 5, foreignProbes: 0, hopLimitExceeded: 0, lastSeen: iso(NOW - H), lastV1Seen: null, lastHopLimitExceeded: null, ...over };
}

function obs(over: Partial<Observation> = {}): Observation {
  return { source: 'state-file', location: '/var/lib/imds-sniff/state.json', observingSince: iso(NOW - 30 * H), lastUpdate: iso(NOW - 1000), gaps: [], gapsCompleteSince: null, processes: [proc('aws-sdk')], ...over };
}

describe('evaluateGate', () => {
  it('passes after 30 h of observation with only IMDSv2 callers', () => {
    const gate = evaluateGate(obs(), OPTS);
    expect(gate).toMatchObject({ ok: true, reasons: [], offenders: [], windowStart: iso(NOW - 24 * H) });
  });

  it.each([
    ['nothing observed', obs({ observingSince: null, lastUpdate: null, processes: [] }), /has not observed this instance/],
    ['observed too briefly', obs({ observingSince: iso(NOW - 3 * H) }), /observed for 3h only, 1d required/],
    ['agent stopped an hour ago', obs({ lastUpdate: iso(NOW - H) }), /has not observed since 2026-11-23T11:00:00.000Z/],
    ['a 2 h stop inside the window', obs({ gaps: [{ from: iso(NOW - 10 * H), to: iso(NOW - 8 * H) }] }), /not observing from .* \(2h\)/],
    ['the record of stops is incomplete inside the window', obs({ gapsCompleteSince: iso(NOW - 5 * H) }), /record of its own stops goes back to 2026-11-23T07:00:00.000Z only/],
  ])('refuses when %s', (_name, observation, reason) => {
    const gate = evaluateGate(observation, OPTS);
    expect(gate.ok).toBe(false);
    expect(gate.reasons.join('\n')).toMatch(reason);
  });

  it('ignores a short stop (a reboot) and a long one before the window', () => {
    const gaps = [
      { from: iso(NOW - 5 * H), to: iso(NOW - 5 * H + 90_000) },
      { from: iso(NOW - 29 * H), to: iso(NOW - 26 * H) },
    ];
    expect(evaluateGate(obs({ gaps }), OPTS)).toMatchObject({ ok: true, reasons: [] });
  });

  it('counts only the part of a gap inside the window', () => {
    // 30 h stop ending 5 min into the window: 5 min count, under the 10 min limit.
    const gaps = [{ from: iso(NOW - 60 * H), to: iso(NOW - 24 * H + 5 * 60_000) }];
    expect(evaluateGate(obs({ observingSince: iso(NOW - 70 * H), gaps }), OPTS).ok).toBe(true);
  });

  it('names each IMDSv1 caller inside the window, not the ones before it', () => {
    const processes = [proc('legacy-cron', { v1: 12, lastV1Seen: iso(NOW - 2 * H) }), proc('old-agent', { v1: 3, lastV1Seen: iso(NOW - 25 * H) }), proc('aws-sdk')];
    const gate = evaluateGate(obs({ processes }), OPTS);
    expect(gate.ok).toBe(false);
    expect(gate.offenders.map((p) => p.name)).toEqual(['legacy-cron']);
    expect(gate.reasons).toEqual([`IMDSv1 calls in the last 1d by: legacy-cron (12 IMDSv1, last ${iso(NOW - 2 * H)})`]);
  });

  it('require-tokens passes with foreign-cloud probes in the window (never IMDSv1); --disable-endpoint counts them as calls', () => {
    const gcp = proc('node', { v2Token: 0, v2Get: 0, foreignProbes: 7, lastSeen: iso(NOW - H) });
    expect(evaluateGate(obs({ processes: [gcp, proc('aws-sdk')] }), OPTS)).toMatchObject({ ok: true, offenders: [], reasons: [] });
    const off = evaluateGate(obs({ processes: [gcp] }), { ...OPTS, mode: 'disable-endpoint' });
    expect(off.reasons).toEqual([`IMDS calls (--disable-endpoint needs none) in the last 1d by: node (7 calls, last ${iso(NOW - H)})`]);
  });

  it('for --disable-endpoint refuses on any caller in the window', () => {
    const gate = evaluateGate(obs(), { ...OPTS, mode: 'disable-endpoint' });
    expect(gate.ok).toBe(false);
    expect(gate.offenders.map((p) => p.name)).toEqual(['aws-sdk']);
    expect(evaluateGate(obs({ processes: [proc('x', { lastSeen: iso(NOW - 25 * H) })] }), { ...OPTS, mode: 'disable-endpoint' }).ok).toBe(true);
  });

  it('refuses hop limit 1 when container token requests were lost at the hop, passes with 2', () => {
    const processes = [proc('ctr-0123456789ab/python3', { hopLimitExceeded: 4, lastHopLimitExceeded: iso(NOW - H) })];
    const at1 = evaluateGate(obs({ processes }), OPTS);
    expect(at1.ok).toBe(false);
    expect(at1.reasons[0]).toMatch(/ctr-0123456789ab\/python3 were lost at the hop limit: hop limit 1 would break them/);
    const at2 = evaluateGate(obs({ processes }), { ...OPTS, hopLimit: 2 });
    expect(at2).toMatchObject({ ok: true });
    expect(at2.hopLimitFailures.map((p) => p.name)).toEqual(['ctr-0123456789ab/python3']);
  });
});

describe('verdictOf', () => {
  const gateOk = evaluateGate(obs(), OPTS);
  const gateV1 = evaluateGate(obs({ processes: [proc('legacy', { v1: 1, lastV1Seen: iso(NOW - H) }), proc('cron', { v1: 1, lastV1Seen: iso(NOW - H) })] }), OPTS);
  const gateShort = evaluateGate(obs({ observingSince: iso(NOW - H) }), OPTS);
  const gateHop = evaluateGate(obs({ processes: [proc('ctr-ab/app', { hopLimitExceeded: 3, lastHopLimitExceeded: iso(NOW - H) })] }), { ...OPTS, hopLimit: 2 });
  it.each([
    ['ready', EC2_DEFAULT_OPTIONS, gateOk, 'ready', true],
    ['v1 callers', EC2_DEFAULT_OPTIONS, gateV1, 'not ready: legacy, cron', false],
    ['too short', EC2_DEFAULT_OPTIONS, gateShort, 'not ready: observed for 1h only, 1d required (--min-observation)', false],
    ['required already', { ...EC2_DEFAULT_OPTIONS, httpTokens: 'required' as const }, gateV1, 'already enforced', true],
    ['required, containers losing tokens at hop limit 1', { ...EC2_DEFAULT_OPTIONS, httpTokens: 'required' as const }, gateHop, 'already enforced, but container token requests are lost at hop limit 1: ctr-ab/app (imds-sniff enforce raises it to 2)', false],
    ['required with hop limit 2, same failures before', { ...EC2_DEFAULT_OPTIONS, httpTokens: 'required' as const, hopLimit: 2 }, gateHop, 'already enforced', true],
    ['endpoint disabled', { ...EC2_DEFAULT_OPTIONS, httpEndpoint: 'disabled' as const }, gateHop, 'already enforced', true],
  ])('%s', (_n, options, gate, text, ready) => {
    expect(verdictOf(options, gate)).toEqual({ text, ready });
  });
});

describe('observationFromState', () => {
  const totals = (over: Partial<ProcessTotals>): ProcessTotals => ({
    comm: 'curl', exe: '/usr/bin/curl', container_id: null, v1: 0, v2_token: 0, v2_get: 0, errors: 0, hop_limit_exceeded: 0,
    first_seen: iso(NOW - 2 * H), last_seen: iso(NOW - H), last_v1_seen: null, ...over,
  });
  it('maps the state file; a pre-0.2 hop-limit total counts as seen at last_seen', () => {
    const state: AgentState = {
      version: 1, observing_since: iso(NOW - 30 * H), updated: iso(NOW), extra: {},
      processes: { zeta: totals({ v1: 2, last_v1_seen: iso(NOW - H) }), alpha: totals({ hop_limit_exceeded: 3 }) },
    };
    const o = observationFromState(state, '/s/state.json');
    expect(o).toMatchObject({ source: 'state-file', observingSince: iso(NOW - 30 * H), lastUpdate: iso(NOW), gaps: [] });
    expect(o.processes.map((p) => [p.name, p.v1, p.lastV1Seen, p.lastHopLimitExceeded])).toEqual([
      ['alpha', 0, null, iso(NOW - H)],
      ['zeta', 2, iso(NOW - H), null],
    ]);
  });

  it('maps foreign-cloud probes; a file written before they were counted has none', () => {
    const state: AgentState = {
      version: 1, observing_since: iso(NOW - 30 * H), updated: iso(NOW), extra: {}, gaps: [],
      processes: { node: totals({ v2_token: 1, foreign_probe: 4 }), curl: totals({ v2_get: 1 }) },
    };
    expect(observationFromState(state, '/s').processes.map((p) => [p.name, p.foreignProbes, p.lastV1Seen])).toEqual([['curl', 0, null], ['node', 4, null]]);
    expect(evaluateGate(observationFromState(state, '/s'), OPTS).ok).toBe(true);
  });
  it('a file from before 0.2 (no gaps key) counts as gap-free only from its last write; a trimmed one from gaps_complete_since', () => {
    const base = { version: 1 as const, observing_since: iso(NOW - 30 * H), updated: iso(NOW - 1000), extra: {}, processes: {} };
    expect(observationFromState(base, '/s').gapsCompleteSince).toBe(iso(NOW - 1000));
    expect(observationFromState({ ...base, gaps: [] }, '/s').gapsCompleteSince).toBeNull();
    expect(observationFromState({ ...base, gaps: [], gaps_complete_since: iso(NOW - 2 * H) }, '/s').gapsCompleteSince).toBe(iso(NOW - 2 * H));
    expect(evaluateGate(observationFromState(base, '/s'), OPTS).ok).toBe(false);
    expect(evaluateGate(observationFromState({ ...base, gaps: [], gaps_complete_since: iso(NOW - 25 * H) }, '/s'), OPTS).ok).toBe(true);
  });
  it('no state file: nothing observed', () => {
    expect(evaluateGate(observationFromState(null, '/nope/state.json'), OPTS).reasons[0]).toMatch(/nothing in \/nope\/state.json/);
  });
});

describe('observationFromMetrics', () => {
  const P = 300_000;
  const start = Math.floor((NOW - 25 * H) / P) * P;
  const beats = (from: number, to: number): number[] => Array.from({ length: Math.floor((to - from) / P) }, (_, i) => from + i * P);
  it('turns 5-minute buckets into observation span, gaps and per-process last calls', () => {
    const heartbeat = [...beats(start, NOW - 10 * H), ...beats(NOW - 9 * H, NOW)];
    const legacy = { v1: new Map([[NOW - 2 * H, 4], [NOW - 20 * H, 1]]), v2Token: new Map(), v2Get: new Map(), foreignProbes: new Map() };
    const sdk = { v1: new Map(), v2Token: new Map([[NOW - H, 2]]), v2Get: new Map([[NOW - H, 9]]), foreignProbes: new Map() };
    const silent = { v1: new Map([[NOW - H, 0]]), v2Token: new Map(), v2Get: new Map(), foreignProbes: new Map() };
    const prober = { v1: new Map(), v2Token: new Map(), v2Get: new Map(), foreignProbes: new Map([[NOW - H, 3]]) };
    const o = observationFromMetrics({ location: 'CloudWatch IMDSSniff', periodMs: P, nowMs: NOW, heartbeat, processes: new Map([['legacy', legacy], ['sdk', sdk], ['silent', silent], ['prober', prober]]) });
    expect(o.observingSince).toBe(iso(start));
    expect(o.lastUpdate).toBe(iso(NOW));
    expect(o.gaps).toEqual([{ from: iso(NOW - 10 * H), to: iso(NOW - 9 * H) }]);
    expect(o.processes.map((p) => [p.name, p.v1, p.v2Get, p.lastV1Seen, p.hopLimitExceeded])).toEqual([
      ['legacy', 5, 0, iso(NOW - 2 * H + P), null],
      ['prober', 0, 0, null, null],
      ['sdk', 0, 9, null, null],
    ]);
    expect(o.processes.find((p) => p.name === 'prober')).toMatchObject({ foreignProbes: 3, lastSeen: iso(NOW - H + P) });
    const gate = evaluateGate(o, OPTS);
    expect(gate.offenders.map((p) => p.name)).toEqual(['legacy']);
    expect(gate.reasons.some((r) => /not observing from .* \(1h\)/.test(r))).toBe(true);
  });
  it('no data: nothing observed', () => {
    const o = observationFromMetrics({ location: 'CloudWatch IMDSSniff', periodMs: P, nowMs: NOW, heartbeat: [], processes: new Map() });
    expect(o).toMatchObject({ observingSince: null, lastUpdate: null, processes: [] });
  });
});

describe('formatDuration', () => {
  it.each([[0, '0s'], [45_000, '45s'], [90 * 60_000, '1h30m'], [26 * H, '1d2h'], [24 * H, '1d']])('%i ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
