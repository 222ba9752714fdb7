import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateFile } from '../../../src/sinks/state-file.js';
import { MAX_RECORDED_GAPS, readState } from '../../../src/contract/agent-state.js';
import { requestEvent, proc } from './metrics/request-event.js';

let dir: string;
let path: string;
const warnings: string[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'imds-sniff-state-'));
  path = join(dir, 'state.json');
  warnings.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-23T10:00:00Z');
const open = (ms: number): StateFile => new StateFile(path, new Date(ms), (m) => warnings.push(m));

describe('StateFile', () => {
  it('records the time between one run and the next as a gap, not a quick restart', () => {
    const first = open(T0);
    first.flush(new Date(T0 + 60_000));
    open(T0 + 62_000).flush(new Date(T0 + 120_000)); // 2 s restart: not a gap
    open(T0 + 120_000 + 3_600_000).flush(new Date(T0 + 7_300_000)); // stopped for an hour
    const state = readState(path);
    expect(state?.observing_since).toBe(new Date(T0).toISOString());
    expect(state?.gaps).toEqual([{ from: new Date(T0 + 120_000).toISOString(), to: new Date(T0 + 3_720_000).toISOString() }]);
  });

  it('keeps only the most recent gaps', () => {
    let t = T0;
    for (let i = 0; i < MAX_RECORDED_GAPS + 5; i++) {
      open(t).flush(new Date(t));
      t += 60_000;
    }
    const state = readState(path);
    const gaps = state?.gaps ?? [];
    expect(gaps).toHaveLength(MAX_RECORDED_GAPS);
    expect(gaps.at(-1)?.to).toBe(new Date(t - 60_000).toISOString());
    // 104 stops, the four oldest dropped: the record is complete only from the end of the last of them.
    expect(state?.gaps_complete_since).toBe(new Date(T0 + 4 * 60_000).toISOString());
    expect(gaps[0]?.from).toBe(new Date(T0 + 4 * 60_000).toISOString());
  });

  it('a file from before 0.2 (no gaps kept) is complete only from its last write on', () => {
    writeFileSync(path, JSON.stringify({ version: 1, observing_since: new Date(T0 - 48 * 3_600_000).toISOString(), updated: new Date(T0).toISOString(), processes: {}, extra: {} }));
    open(T0 + 2_000).flush(new Date(T0 + 3_000));
    const state = readState(path);
    expect(state?.gaps).toEqual([]);
    expect(state?.gaps_complete_since).toBe(new Date(T0).toISOString());
  });

  it('a complete record has no gaps_complete_since', () => {
    open(T0).flush(new Date(T0));
    open(T0 + 3_600_000).flush(new Date(T0 + 3_600_000));
    expect(readState(path)?.gaps_complete_since).toBeUndefined();
  });

  it('keeps the last IMDSv1 call and the last hop-limit failure per process', () => {
    const s = open(T0);
    s.write(requestEvent(T0 + 1000, { ...proc('/usr/bin/curl'), kind: 'v1' }));
    s.write(requestEvent(T0 + 2000, { ...proc('/usr/bin/python3'), kind: 'v2_token', hop_limit_exceeded: true, forwarded: true }));
    s.write(requestEvent(T0 + 3000, { ...proc('/usr/bin/curl'), kind: 'v1', own: true }));
    s.flush(new Date(T0 + 4000));
    const state = readState(path);
    expect(state?.processes['curl']).toMatchObject({ v1: 1, last_v1_seen: new Date(T0 + 1000).toISOString(), last_hop_limit_exceeded: null });
    expect(state?.processes['python3']).toMatchObject({ hop_limit_exceeded: 1, last_hop_limit_exceeded: new Date(T0 + 2000).toISOString() });
  });

  it('counts foreign-cloud probes apart: no IMDSv1 time, no error; a file without the count reads as 0', () => {
    const s = open(T0);
    s.write(requestEvent(T0 + 1000, { ...proc('/usr/bin/node'), kind: 'foreign_probe', probe_cloud: 'gce', path: '/computeMetadata/v1/instance', status: 404 }));
    s.write(requestEvent(T0 + 2000, { ...proc('/usr/bin/node'), kind: 'v2_token' }));
    s.flush(new Date(T0 + 3000));
    expect(readState(path)?.processes['node']).toMatchObject({ v1: 0, v2_token: 1, foreign_probe: 1, errors: 0, last_v1_seen: null, last_seen: new Date(T0 + 2000).toISOString() });
    writeFileSync(path, JSON.stringify({ version: 1, observing_since: '2026-11-20T00:00:00Z', updated: '2026-11-23T10:00:00Z', extra: {},
      processes: { curl: { v1: 1, v2_token: 0, v2_get: 0, errors: 0, hop_limit_exceeded: 0, last_seen: '2026-11-23T10:00:00Z', last_v1_seen: '2026-11-23T10:00:00Z' } } }));
    expect(readState(path)?.processes['curl']?.foreign_probe).toBeUndefined();
    writeFileSync(path, JSON.stringify({ version: 1, observing_since: '2026-11-20T00:00:00Z', updated: '2026-11-23T10:00:00Z', extra: {},
      processes: { curl: { v1: 1, foreign_probe: 'many', last_seen: '2026-11-23T10:00:00Z', last_v1_seen: null } } }));
    expect(() => readState(path)).toThrow(/bad times or counts/);
  });

  it.each([
    ['observing_since', { observing_since: 'yesterday' }],
    ['a last_v1_seen', { processes: { curl: { v1: 1, last_seen: '2026-11-23T10:00:00Z', last_v1_seen: 'soon' } } }],
  ])('refuses a file with a bad time in %s (the gate must not read it as long ago)', (_n, over) => {
    writeFileSync(path, JSON.stringify({ version: 1, observing_since: '2026-11-20T00:00:00Z', updated: '2026-11-23T10:00:00Z', processes: {}, extra: {}, ...over }));
    expect(() => readState(path)).toThrow(/not times|bad times/);
  });

  it('moves a corrupt file aside with a warning and starts again', () => {
    writeFileSync(path, 'not json');
    open(T0).flush(new Date(T0));
    expect(warnings[0]).toMatch(/could not be read .* moved to .*corrupt-/);
    expect(readState(path)?.gaps).toEqual([]);
  });
});

describe('StateFile bounds (a host with container churn)', () => {
  const cid = (i: number): string => i.toString(16).padStart(12, '0').padEnd(64, 'e');
  const bounds = { maxProcesses: 50, retentionMs: 35 * 86_400_000 };

  it('keeps at most its cap of names over 5000 containers; the file stays the same size; totals are kept', async () => {
    const { statSync } = await import('node:fs');
    const { observationFromState } = await import('../../../src/control/observation.js');
    const { evaluateGate } = await import('../../../src/control/gate.js');
    const file = new StateFile(path, new Date(T0), (m) => warnings.push(m), bounds);
    file.write(requestEvent(T0 + 1, { ...proc('/opt/legacy/bin/legacy-agent') })); // IMDSv1 on the host
    const sizes: number[] = [];
    for (let i = 1; i <= 5000; i += 1) {
      file.write(requestEvent(T0 + i * 1000, { kind: 'v2_get', container_id: cid(i) }));
      if (i === 2500) file.write(requestEvent(T0 + i * 1000, { kind: 'v1', container_id: cid(i), ...proc('/usr/local/bin/old-sdk') }));
      expect(file.processCount).toBeLessThanOrEqual(50);
      if (i % 1000 === 0) {
        file.flush(new Date(T0 + i * 1000));
        sizes.push(statSync(path).size);
      }
    }
    expect(Math.max(...sizes)).toBeLessThan(Math.min(...sizes) * 1.2); // flat: the same 50 names' worth at 1000 containers and at 5000
    const state = readState(path);
    const all = Object.values(state?.processes ?? {});
    expect(Object.keys(state?.processes ?? {}).length).toBeLessThanOrEqual(50);
    expect(all.reduce((n, p) => n + p.v2_get, 0)).toBe(5000);
    expect(all.reduce((n, p) => n + p.v1, 0)).toBe(2);
    expect(state?.processes['curl@*']?.folded).toBeGreaterThan(4900);
    // The gate still refuses on both IMDSv1 callers, by name: IMDSv1 callers are folded last.
    const gate = evaluateGate(observationFromState(state, path), { nowMs: T0 + 5_000_000, minObservationMs: 5_000_000, maxGapMs: 600_000, mode: 'require-tokens', hopLimit: 2 });
    expect(gate.ok).toBe(false);
    expect(gate.offenders.map((p) => p.name).sort()).toEqual(['legacy-agent', 'old-sdk@0000000009c4']);
  });

  it('IMDSv1 callers past the cap fold by program, and the gate names the program', async () => {
    const { observationFromState } = await import('../../../src/control/observation.js');
    const { evaluateGate } = await import('../../../src/control/gate.js');
    const file = new StateFile(path, new Date(T0), (m) => warnings.push(m), bounds);
    for (let i = 1; i <= 200; i += 1) file.write(requestEvent(T0 + i * 1000, { container_id: cid(i), ...proc('/usr/local/bin/old-sdk') }));
    file.flush(new Date(T0 + 201_000));
    const state = readState(path);
    expect(Object.keys(state?.processes ?? {}).length).toBeLessThanOrEqual(50);
    expect(state?.processes['old-sdk@*']).toMatchObject({ last_v1_seen: expect.any(String) as unknown });
    const gate = evaluateGate(observationFromState(state, path), { nowMs: T0 + 201_000, minObservationMs: 201_000, maxGapMs: 600_000, mode: 'require-tokens', hopLimit: 2 });
    expect(gate.offenders.map((p) => p.name)).toContain('old-sdk@*');
    expect(gate.offenders.reduce((n, p) => n + p.v1, 0)).toBe(200);
  });

  it('among IMDSv1 callers, the one whose last IMDSv1 call is oldest folds first, whatever IMDSv2 calls it made since', () => {
    const file = new StateFile(path, new Date(T0), (m) => warnings.push(m), { maxProcesses: 3, retentionMs: 35 * 86_400_000 });
    for (const [i, name] of ['a', 'b', 'c', 'd'].entries()) file.write(requestEvent(T0 + i, { kind: 'v2_get', ...proc(`/usr/bin/${name}`) }));
    expect(Object.keys(file.state.processes).sort()).toEqual(['d', 'other']); // a, b, c folded (to 90% of 3)
    file.write(requestEvent(T0 + 1000, { ...proc('/usr/bin/old-v1') })); // IMDSv1 long ago…
    file.write(requestEvent(T0 + 9000, { kind: 'v2_get', ...proc('/usr/bin/old-v1') })); // …and busy with IMDSv2 since
    file.write(requestEvent(T0 + 5000, { ...proc('/usr/bin/recent-v1') })); // over the cap: d, then old-v1 fold
    expect(Object.keys(file.state.processes).sort()).toEqual(['other', 'recent-v1']);
    expect(file.state.processes['other']).toMatchObject({ v1: 1, v2_get: 5, folded: 5, last_v1_seen: new Date(T0 + 1000).toISOString() });
  });

  it('folds names not seen for the retention time into other, keeping their IMDSv1 time', () => {
    const file = new StateFile(path, new Date(T0), (m) => warnings.push(m), { maxProcesses: 500, retentionMs: 86_400_000 });
    file.write(requestEvent(T0, { ...proc('/usr/bin/ancient') }));
    file.write(requestEvent(T0 + 2 * 86_400_000, { kind: 'v2_get', ...proc('/usr/bin/recent') }));
    file.flush(new Date(T0 + 2 * 86_400_000));
    const state = readState(path);
    expect(Object.keys(state?.processes ?? {}).sort()).toEqual(['other', 'recent']);
    expect(state?.processes['other']).toMatchObject({ v1: 1, folded: 1, last_v1_seen: new Date(T0).toISOString() });
  });

  it('a program named __proto__ is a name like any other', () => {
    const file = new StateFile(path, new Date(T0), (m) => warnings.push(m));
    file.write(requestEvent(T0, { exe: '/tmp/__proto__', comm: '__proto__' }));
    file.flush(new Date(T0 + 1000));
    expect(({} as Record<string, unknown>)['v1']).toBeUndefined();
    const again = new StateFile(path, new Date(T0 + 2000), (m) => warnings.push(m));
    again.write(requestEvent(T0 + 2000, { exe: '/tmp/__proto__', comm: '__proto__' }));
    expect(Object.getOwnPropertyDescriptor(again.state.processes, '__proto__')?.value).toMatchObject({ v1: 2 });
    expect(({} as Record<string, unknown>)['v1']).toBeUndefined();
  });
});

describe('StateFile that cannot be read', () => {
  it('a path it cannot read (here a directory) is a usage error, and nothing is moved aside', async () => {
    const { mkdirSync, readdirSync } = await import('node:fs');
    mkdirSync(path);
    let error: unknown;
    try {
      new StateFile(path, new Date(T0), (m) => warnings.push(m));
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ERR_STATE_UNREADABLE', exitCode: 2 });
    expect((error as Error).message).toMatch(/cannot read the state file .*state\.json \(EISDIR\)/);
    expect(readdirSync(dir)).toEqual(['state.json']);
    expect(warnings).toEqual([]);
  });
});
