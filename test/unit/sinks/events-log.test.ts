import { mkdtempSync, readFileSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventsLog, type LogV2 } from '../../../src/sinks/events-log.js';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';

function ev(kind: ImdsRequestEvent['kind'], over: Partial<ImdsRequestEvent> = {}): ImdsRequestEvent {
  return { event: 'imds_request', time: '2026-11-23T10:00:00.000Z', kind, status: 200, exe: '/usr/bin/curl', comm: 'curl', container_id: null, own: false, pid: 1, ...over } as ImdsRequestEvent;
}

function lines(path: string): Array<{ event: string; kind?: string; processes?: unknown[] }> {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; kind?: string });
}

describe('EventsLog', () => {
  it.each<[LogV2, string[], Record<string, number>]>([
    ['all', ['v1', 'v2_token', 'v2_get', 'foreign_probe', 'other'], { v1: 1, v2_token: 1, v2_get: 1, foreign_probe: 1, other: 1 }],
    ['summary', ['v1', 'foreign_probe', 'other'], { v1: 1, v2_token: 1, v2_get: 1, foreign_probe: 1, other: 1 }],
    ['none', ['v1', 'foreign_probe', 'other'], { v1: 1, v2_token: 0, v2_get: 0, foreign_probe: 1, other: 1 }],
  ])('logV2 %s: IMDSv1 and foreign probes always, IMDSv2 as set, and the interval summary', (logV2, logged, counted) => {
    const path = join(mkdtempSync(join(tmpdir(), 'imds-sniff-events-')), 'events.jsonl');
    const log = new EventsLog(path, logV2, 60, () => {}, 0);
    for (const kind of ['v1', 'v2_token', 'v2_get', 'foreign_probe', 'other'] as const) {
      // A foreign probe's 404 is its expected answer: not counted as an error.
      log.write(kind === 'foreign_probe' ? ev(kind, { status: 404, probe_cloud: 'gce', path: '/computeMetadata/v1/instance' }) : ev(kind));
    }
    log.write(ev('v1', { own: true }));
    expect(log.tick(59_000)).toBeNull();
    const summary = log.tick(60_000);
    expect(summary?.processes).toEqual([{ process: 'curl', errors: 0, ...counted }]);
    const written = lines(path);
    expect(written.filter((l) => l.event === 'imds_request').map((l) => l.kind)).toEqual([...logged, 'v1']); // the own v1 is logged, not counted
    expect(written.at(-1)?.event).toBe('interval_summary');
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });

  it('reports a file it cannot write once, counts the lines, and never throws', () => {
    const problems: string[] = [];
    const log = new EventsLog('/nonexistent/dir/events.jsonl', 'all', 60, (p) => problems.push(p.message), 0);
    for (let i = 0; i < 5; i++) log.write(ev('v1'));
    expect(problems).toEqual(['events log /nonexistent/dir/events.jsonl: no such directory; lines are dropped (and counted) until it can be written']);
    expect(log.droppedLines).toBe(5);
  });

  it('writes to the new file after reopen (logrotate)', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'imds-sniff-events-')), 'events.jsonl');
    const log = new EventsLog(path, 'all', 60, () => {}, 0);
    log.write(ev('v1'));
    renameSync(path, `${path}.1`);
    log.write(ev('v1')); // still the old file until reopened
    log.reopen('none');
    log.write(ev('v2_get'));
    log.write(ev('v1'));
    expect(lines(`${path}.1`)).toHaveLength(2);
    expect(lines(path).map((l) => l.kind)).toEqual(['v1']); // and the new logV2 applies
  });
});
