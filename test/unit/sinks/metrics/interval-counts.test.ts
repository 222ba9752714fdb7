// Unit tests: per-interval counting, alignment, the cardinality guard and export/import of the open interval.
import { describe, expect, it } from 'vitest';
import { IntervalCounts, KEPT_NAME_IDLE_MS, type ClosedInterval, type ProcessCounts } from '../../../../src/sinks/metrics/interval-counts.js';
import { OTHER_PROCESS } from '../../../../src/contract/metric-names.js';
import type { ImdsRequestEvent } from '../../../../src/contract/imds-request-event.js';
import { proc, requestEvent } from './request-event.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');

function counts(over: Partial<ProcessCounts> = {}): ProcessCounts {
  return { IMDSv1Calls: 0, IMDSv2TokenCalls: 0, IMDSv2Calls: 0, IMDSv1Rejected: 0, IMDSErrors: 0, ForeignCloudProbes: 0, ...over };
}

function make(over: { intervalSeconds?: number; maxProcesses?: number; startMs?: number } = {}): IntervalCounts {
  return new IntervalCounts({ intervalSeconds: 60, maxProcesses: 20, runId: 'r1', startMs: T0, ...over });
}

function byName(interval: ClosedInterval | undefined): Record<string, ProcessCounts> {
  return Object.fromEntries([...(interval?.processes ?? new Map())].map(([n, c]) => [n, { ...c }]));
}

describe('IntervalCounts', () => {
  it.each<[string, Partial<ImdsRequestEvent>, Partial<ProcessCounts>]>([
    ['IMDSv1 answered', { kind: 'v1', status: 200 }, { IMDSv1Calls: 1 }],
    ['IMDSv1 refused with 401', { kind: 'v1', status: 401 }, { IMDSv1Calls: 1, IMDSv1Rejected: 1, IMDSErrors: 1 }],
    ['token PUT', { kind: 'v2_token', method: 'PUT', status: 200 }, { IMDSv2TokenCalls: 1 }],
    ['IMDSv2 GET 404', { kind: 'v2_get', status: 404 }, { IMDSv2Calls: 1, IMDSErrors: 1 }],
    ['unanswered token PUT', { kind: 'v2_token', status: null }, { IMDSv2TokenCalls: 1, IMDSErrors: 1 }],
    ['other method 405', { kind: 'other', method: 'POST', status: 405 }, { IMDSErrors: 1 }],
    ['other method answered', { kind: 'other', method: 'OPTIONS', status: 200 }, {}],
    ['GCE probe answered 404 (not an error: its expected answer)', { kind: 'foreign_probe', probe_cloud: 'gce', path: '/computeMetadata/v1/instance', status: 404 }, { ForeignCloudProbes: 1 }],
    ['Azure probe refused with 401 (tokens required)', { kind: 'foreign_probe', probe_cloud: 'azure', path: '/metadata/instance', status: 401 }, { ForeignCloudProbes: 1 }],
  ])('counts %s', (_label, over, expected) => {
    const c = make();
    c.add(requestEvent(T0 + 1000, over));
    expect(byName(c.closeBefore(T0 + 60_000)[0])).toEqual({ curl: counts(expected) });
  });

  it('aligns intervals to multiples of intervalSeconds of the capture time and closes them oldest first', () => {
    const c = make({ intervalSeconds: 10, startMs: T0 + 3000 });
    c.add(requestEvent(T0 + 9_999));
    c.add(requestEvent(T0 + 10_000, proc('/usr/bin/node', { kind: 'v2_get' })));
    c.add(requestEvent(T0 + 25_000));
    expect(c.closeBefore(T0 + 19_999).map((i) => i.startMs - T0)).toEqual([0]);
    const closed = c.closeBefore(T0 + 40_000);
    expect(closed.map((i) => [i.startMs - T0, i.endMs - T0, i.late])).toEqual([[10_000, 20_000, false], [20_000, 30_000, false], [30_000, 40_000, false]]);
    expect(byName(closed[0])).toEqual({ node: counts({ IMDSv2Calls: 1 }) });
    expect(byName(closed[2])).toEqual({});
    expect(c.closeBefore(T0 + 40_000)).toEqual([]);
  });

  it('leaves out the agent\'s own requests and events without a valid time', () => {
    const c = make();
    c.add(requestEvent(T0, { own: true, kind: 'v2_token' }));
    c.add(requestEvent(T0, { time: 'yesterday' }));
    c.add(requestEvent(T0));
    expect(c.stats).toMatchObject({ counted: 1, own: 1, invalidTime: 1 });
    expect(byName(c.closeBefore(T0 + 60_000)[0])).toEqual({ curl: counts({ IMDSv1Calls: 1 }) });
  });

  it('counts a request that comes after its interval closed into a late interval with the same start', () => {
    const c = make();
    c.closeBefore(T0 + 61_000);
    c.add(requestEvent(T0 + 59_000));
    const [late, ...rest] = c.closeBefore(T0 + 62_000);
    expect(rest).toEqual([]);
    expect([late?.startMs, late?.late]).toEqual([T0, true]);
    expect(byName(late)).toEqual({ curl: counts({ IMDSv1Calls: 1 }) });
  });

  it('does not fill a long gap (suspend, clock jump) with empty intervals', () => {
    const c = make();
    c.add(requestEvent(T0 + 120_000));
    const closed = c.closeBefore(T0 + 24 * 3600_000);
    expect(closed.map((i) => i.startMs - T0)).toEqual([120_000]);
    expect(c.stats.skippedEmptyIntervals).toBe(24 * 60 - 1);
  });

  it('keeps the first maxProcesses names and counts the rest as other, reporting each folded name once', () => {
    const c = make({ maxProcesses: 2 });
    for (const exe of ['/bin/a', '/bin/b', '/bin/c', '/bin/d', '/bin/c']) c.add(requestEvent(T0, proc(exe)));
    expect(c.takeNewlyFolded()).toEqual(['c', 'd']);
    c.add(requestEvent(T0 + 60_000, proc('/bin/c')));
    c.add(requestEvent(T0 + 60_000, proc('/bin/a')));
    expect(c.takeNewlyFolded()).toEqual([]);
    const [first, second] = c.closeBefore(T0 + 120_000);
    expect(byName(first)).toEqual({ a: counts({ IMDSv1Calls: 1 }), b: counts({ IMDSv1Calls: 1 }), [OTHER_PROCESS]: counts({ IMDSv1Calls: 3 }) });
    expect(byName(second)).toEqual({ a: counts({ IMDSv1Calls: 1 }), [OTHER_PROCESS]: counts({ IMDSv1Calls: 1 }) });
  });

  it('gives the place of a name not counted for a day to a new process', () => {
    const c = make({ maxProcesses: 2 });
    c.add(requestEvent(T0, proc('/bin/a')));
    c.add(requestEvent(T0, proc('/bin/b')));
    c.add(requestEvent(T0 + KEPT_NAME_IDLE_MS, proc('/bin/b'))); // b stays in use, a does not
    c.add(requestEvent(T0 + KEPT_NAME_IDLE_MS + 60_000, proc('/bin/new')));
    const last = c.closeAll(T0 + KEPT_NAME_IDLE_MS + 120_000).at(-1);
    expect(byName(last)).toEqual({ new: counts({ IMDSv1Calls: 1 }) });
    expect(c.exportOpen().processes).toEqual(['b', 'new']);
  });

  it('closeAll closes the interval holding now as a partial one, timestamped at its start', () => {
    const c = make();
    c.add(requestEvent(T0 + 30_000));
    c.add(requestEvent(T0 + 95_000));
    const closed = c.closeAll(T0 + 100_000);
    expect(closed.map((i) => [i.startMs - T0, i.late])).toEqual([[0, false], [60_000, false]]);
    expect(c.exportOpen().intervals).toEqual([]);
  });

  it('exports the open interval as JSON and a restart resumes it, guard names included', () => {
    const before = make({ maxProcesses: 2 });
    before.add(requestEvent(T0 + 1000, proc('/bin/a')));
    before.add(requestEvent(T0 + 2000, proc('/bin/b', { kind: 'v2_token' })));
    before.add(requestEvent(T0 + 3000, proc('/bin/c')));
    const state = JSON.parse(JSON.stringify(before.exportOpen())) as unknown;
    expect(state).toEqual({
      version: 1, processes: ['a', 'b'],
      intervals: [{ id: `${T0}-r1-0`, startMs: T0, endMs: T0 + 60_000, counts: { a: counts({ IMDSv1Calls: 1 }), b: counts({ IMDSv2TokenCalls: 1 }), other: counts({ IMDSv1Calls: 1 }) } }],
    });

    const after = new IntervalCounts({ intervalSeconds: 60, maxProcesses: 2, runId: 'r2', startMs: T0 + 30_000 });
    expect(after.importOpen(state, () => false)).toEqual({ imported: 1, skippedClosed: 0, invalid: null });
    after.add(requestEvent(T0 + 40_000, proc('/bin/d')));
    after.add(requestEvent(T0 + 41_000, proc('/bin/a')));
    expect(after.takeNewlyFolded()).toEqual(['d']);
    const [resumed] = after.closeBefore(T0 + 60_000);
    expect(resumed?.id).toBe(`${T0}-r1-0`);
    expect(byName(resumed)).toEqual({ a: counts({ IMDSv1Calls: 2 }), b: counts({ IMDSv2TokenCalls: 1 }), other: counts({ IMDSv1Calls: 2 }) });
  });

  it('skips intervals the ledger says were closed, and ignores an invalid export', () => {
    const before = make();
    before.add(requestEvent(T0));
    const state = before.exportOpen();
    const after = make();
    expect(after.importOpen(state, (id) => id === `${T0}-r1-0`)).toEqual({ imported: 0, skippedClosed: 1, invalid: null });
    expect(after.closeBefore(T0 + 60_000).map((i) => i.processes.size)).toEqual([0]);
    expect.soft(make().importOpen(null, () => false).invalid).toBe('not an object');
    expect.soft(make().importOpen({ version: 2 }, () => false).invalid).toBe('unknown version 2');
    const negative = { ...state, intervals: [{ ...state.intervals[0], counts: { curl: counts({ IMDSv1Calls: -1 }) } }] };
    expect.soft(make().importOpen(negative, () => false).invalid).toBe('an interval has a bad count');
  });

  it('resumes an export written before ForeignCloudProbes existed (the metric counted nothing then)', () => {
    const { ForeignCloudProbes: _absent, ...older } = counts({ IMDSv1Calls: 2 });
    const state = { version: 1, processes: ['curl'], intervals: [{ id: `${T0}-r0-0`, startMs: T0, endMs: T0 + 60_000, counts: { curl: older } }] };
    const after = make();
    expect(after.importOpen(state, () => false)).toEqual({ imported: 1, skippedClosed: 0, invalid: null });
    expect(byName(after.closeBefore(T0 + 60_000)[0])).toEqual({ curl: counts({ IMDSv1Calls: 2 }) });
    const bad = { ...state, intervals: [{ ...state.intervals[0], counts: { curl: { ...older, ForeignCloudProbes: 'x' } } }] };
    expect(make().importOpen(bad, () => false).invalid).toBe('an interval has a bad count');
  });
});
