// Unit tests: the metrics sink with the emf and none outputs (the cloudwatch output runs against moto in test/e2e/metrics).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_METRICS_CONFIG, type MetricsConfig } from '../../../../src/sinks/metrics/config.js';
import type { ClosedInterval } from '../../../../src/sinks/metrics/interval-counts.js';
import { createMetricsSink } from '../../../../src/sinks/create-metrics-sink.js';
import { proc, requestEvent } from './request-event.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const identity = { instanceId: 'i-0123456789abcdef0', autoScalingGroupName: null };

function recorder(): { log: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: (o: object, m: string) => void }; lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string): void => void lines.push({ level, obj, msg });
  return { log: { info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

function emfConfig(dir: string, over: Partial<MetricsConfig> = {}): MetricsConfig {
  return { ...DEFAULT_METRICS_CONFIG, sink: 'emf', region: 'us-east-1', intervalSeconds: 10, emfFile: join(dir, 'emf.jsonl'), spoolDir: join(dir, 'spool'), ...over };
}

function emfRecords(file: string): { Process?: string; IMDSv1Calls?: number; _aws: { Timestamp: number } }[] {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as never) : [];
}

describe('MetricsSink (emf and none; the CloudWatch path is tested against moto in test/e2e/metrics)', () => {
  it('counts only the workload\'s imds_request events and writes EMF lines per closed interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-sink-'));
    const { log, lines } = recorder();
    const intervals: ClosedInterval[] = [];
    const sink = createMetricsSink(emfConfig(dir), identity, { log, now: () => T0, lateGraceMs: 1000, onInterval: (i) => intervals.push(i) });
    sink.write({ event: 'warning', time: new Date(T0).toISOString(), code: 'X', message: 'not counted' });
    sink.write(requestEvent(T0 + 1000, { own: true, kind: 'v2_token' }));
    sink.write(requestEvent(T0 + 1000));
    sink.write(requestEvent(T0 + 2000, proc('/usr/bin/node', { kind: 'v2_get' })));
    await sink.tick(T0 + 10_500);
    expect(emfRecords(join(dir, 'emf.jsonl'))).toEqual([]);
    await sink.tick(T0 + 11_000);
    const records = emfRecords(join(dir, 'emf.jsonl'));
    expect(records.map((r) => [r.Process ?? 'instance', r.IMDSv1Calls, r._aws.Timestamp])).toEqual([['curl', 1, T0], ['node', undefined, T0], ['instance', 1, T0]]);
    expect(sink.stats).toMatchObject({ eventsCounted: 2, ownIgnored: 1, intervalsClosed: 1, emfLines: 3, publisher: null });
    expect(intervals.map((i) => i.startMs)).toEqual([T0]);
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
  });

  it('logs each process folded into other once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-sink-'));
    const { log, lines } = recorder();
    const sink = createMetricsSink(emfConfig(dir, { maxProcesses: 1 }), identity, { log, now: () => T0 });
    for (const exe of ['/bin/a', '/bin/b', '/bin/b', '/bin/c']) sink.write(requestEvent(T0, proc(exe)));
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.obj)).toEqual([{ processes: ['b'], maxProcesses: 1 }, { processes: ['c'], maxProcesses: 1 }]);
    expect(sink.stats.foldedProcesses).toBe(2);
  });

  it('close writes the partial interval at its start; a restart from an older state file does not write it twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-sink-'));
    const file = join(dir, 'emf.jsonl');
    const first = createMetricsSink(emfConfig(dir), identity, { log: recorder().log, now: () => T0 + 5000 });
    first.write(requestEvent(T0 + 1000));
    const stale = JSON.parse(JSON.stringify(first.exportOpenInterval())) as unknown;
    first.write(requestEvent(T0 + 2000));
    await first.close();
    expect(emfRecords(file).map((r) => [r.Process ?? 'instance', r.IMDSv1Calls, r._aws.Timestamp])).toEqual([['curl', 2, T0], ['instance', 2, T0]]);

    const second = createMetricsSink(emfConfig(dir), identity, { log: recorder().log, now: () => T0 + 6000, resumeOpenInterval: stale });
    expect(second.stats.resumed).toEqual({ imported: 0, skippedClosed: 1, invalid: null });
    await second.close();
    expect(emfRecords(file).filter((r) => r.Process === 'curl')).toHaveLength(1);
  });

  it('keeps counting and says so once when the EMF file cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-sink-'));
    const { log, lines } = recorder();
    const sink = createMetricsSink(emfConfig(dir, { emfFile: join(dir, 'no-such-dir', 'emf.jsonl') }), identity, { log, now: () => T0, lateGraceMs: 0 });
    for (let i = 0; i < 3; i++) {
      sink.write(requestEvent(T0 + i * 10_000));
      await sink.tick(T0 + (i + 1) * 10_000);
    }
    expect(sink.stats).toMatchObject({ eventsCounted: 3, intervalsClosed: 3, emfFailedIntervals: 3 });
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['cannot write metrics EMF lines; their intervals are lost']);
  });

  it('sink none counts and closes intervals but writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-sink-'));
    let nowMs = T0;
    const sink = createMetricsSink(emfConfig(dir, { sink: 'none' }), identity, { log: recorder().log, now: () => nowMs });
    sink.write(requestEvent(T0));
    await sink.tick(T0 + 20_000);
    expect(sink.stats.intervalsClosed).toBe(1);
    nowMs = T0 + 25_000;
    await sink.close();
    expect(sink.stats).toMatchObject({ eventsCounted: 1, intervalsClosed: 3, emfLines: 0, publisher: null });
    expect(existsSync(join(dir, 'spool'))).toBe(false);
    expect(existsSync(join(dir, 'emf.jsonl'))).toBe(false);
  });
});

describe('MetricsSink.start', () => {
  it('ticks every second on the injected clock until close', async () => {
    vi.useFakeTimers();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-sink-'));
      let nowMs = T0;
      const sink = createMetricsSink(emfConfig(dir, { intervalSeconds: 1 }), identity, { log: recorder().log, now: () => nowMs, lateGraceMs: 0 });
      sink.start();
      sink.write(requestEvent(T0 + 10));
      nowMs = T0 + 1000;
      await vi.advanceTimersByTimeAsync(1000);
      expect(emfRecords(join(dir, 'emf.jsonl')).map((r) => r.Process ?? 'instance')).toEqual(['curl', 'instance']);
      await sink.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
