// Unit tests: the on-disk metrics buffer (atomic files, order, restart, retention) and the closed-interval ledger.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { ClosedLedger } from '../../../../src/sinks/metrics/closed-ledger.js';
import { Spool, type SpoolBatch } from '../../../../src/sinks/metrics/spool.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const MIN = 60_000;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'imds-sniff-spool-'));
}

function batch(startMs: number, run = 'r1', values = [1]): SpoolBatch {
  const datums: MetricDatum[] = values.map((v) => ({ MetricName: 'IMDSv1Calls', Dimensions: [{ Name: 'InstanceId', Value: 'i-1' }], Value: v, Unit: 'Count', Timestamp: new Date(startMs) }));
  return { version: 1, intervalId: `${startMs}-${run}-0`, intervalStartMs: startMs, namespace: 'IMDSSniff', datums };
}

describe('Spool', () => {
  it('writes a batch atomically (mode 0640, no temporary left), reads it back and removes it', () => {
    const dir = tempDir();
    const spool = new Spool(dir, { maxAgeSeconds: 86_400, maxBytes: 1 << 20 });
    spool.open();
    const { item, error } = spool.write(batch(T0), 0);
    expect(error).toBeNull();
    expect(readdirSync(dir)).toEqual([item.name]);
    expect(statSync(join(dir, item.name)).mode & 0o777).toBe(0o640);
    expect(spool.read(item)).toEqual(batch(T0));
    expect(readFileSync(join(dir, item.name), 'utf8')).not.toMatch(/token|secret/i);
    spool.remove(item);
    expect(readdirSync(dir)).toEqual([]);
    expect(spool.size).toEqual({ batches: 0, bytes: 0 });
  });

  it('hands batches out oldest first, whatever order they were written in', () => {
    const spool = new Spool(tempDir(), { maxAgeSeconds: 86_400, maxBytes: 1 << 20 });
    spool.open();
    for (const start of [T0 + 2 * MIN, T0, T0 + MIN]) spool.write(batch(start), 0);
    spool.write(batch(T0, 'r1', [2]), 1);
    const order: [number, string][] = [];
    for (let item = spool.oldest(); item !== undefined; item = spool.oldest()) {
      order.push([item.intervalStartMs - T0, item.name.slice(-6)]);
      spool.remove(item);
    }
    expect(order).toEqual([[0, '0.json'], [0, '1.json'], [MIN, '0.json'], [2 * MIN, '0.json']]);
  });

  it('survives a restart: a new spool on the directory finds the batches and drops leftover temporaries', () => {
    const dir = tempDir();
    const first = new Spool(dir, { maxAgeSeconds: 86_400, maxBytes: 1 << 20 });
    first.open();
    first.write(batch(T0), 0);
    first.write(batch(T0 + MIN), 0);
    writeFileSync(join(dir, '.half-written.123.0.tmp'), '{"vers');
    const second = new Spool(dir, { maxAgeSeconds: 86_400, maxBytes: 1 << 20 });
    expect(second.open()).toEqual({ recovered: 2, removedTemporary: 1 });
    const oldest = second.oldest();
    expect(oldest === undefined ? null : second.read(oldest)).toEqual(batch(T0));
    expect(second.hasInterval(`${T0}-r1-0`)).toBe(true);
    expect(second.hasInterval(`${T0}-r9-0`)).toBe(false);
  });

  it.each([
    ['age', { maxAgeSeconds: 3 * 60, maxBytes: 1 << 20 }, [0, 1, 2, 3, 4, 5], T0 + 6 * MIN, [3, 4, 5], 3],
    ['age, nothing too old', { maxAgeSeconds: 3600, maxBytes: 1 << 20 }, [0, 1, 2], T0 + 3 * MIN, [0, 1, 2], 0],
  ])('drops the oldest beyond the limit: %s', (_label, limits, minutes, nowMs, kept, dropped) => {
    const spool = new Spool(tempDir(), limits);
    spool.open();
    for (const m of minutes) spool.write(batch(T0 + m * MIN), 0);
    const drops = spool.prune(nowMs);
    expect(drops.reduce((n, d) => n + d.intervals, 0)).toBe(dropped);
    if (dropped > 0) expect(drops[0]).toMatchObject({ reason: 'age', oldestStartMs: T0 });
    const left: number[] = [];
    for (let item = spool.oldest(); item !== undefined; item = spool.oldest()) {
      left.push((item.intervalStartMs - T0) / MIN);
      spool.remove(item);
    }
    expect(left).toEqual(kept);
  });

  it('drops the oldest beyond bufferMaxBytes and says how many', () => {
    const dir = tempDir();
    const probe = new Spool(dir, { maxAgeSeconds: 86_400, maxBytes: 1 << 20 });
    probe.open();
    const oneBatch = probe.write(batch(T0), 0).item.bytes;
    probe.remove(probe.oldest() as NonNullable<ReturnType<Spool['oldest']>>);
    const spool = new Spool(dir, { maxAgeSeconds: 86_400, maxBytes: 3 * oneBatch });
    spool.open();
    for (let m = 0; m < 5; m++) spool.write(batch(T0 + m * MIN), 0);
    expect(spool.prune(T0 + 5 * MIN)).toEqual([{ reason: 'bytes', batches: 2, intervals: 2, oldestStartMs: T0 }]);
    expect(spool.size).toEqual({ batches: 3, bytes: 3 * oneBatch });
    expect(readdirSync(dir).length).toBe(3);
  });

  it('holds a batch in memory when the directory cannot be written, and says why', () => {
    const dir = tempDir();
    const spool = new Spool(join(dir, 'gone'), { maxAgeSeconds: 86_400, maxBytes: 1 << 20 });
    const { item, error } = spool.write(batch(T0), 0);
    expect((error as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(item.inMemory).toBe(true);
    expect(spool.read(item)).toEqual(batch(T0));
    spool.remove(item);
    expect(spool.size.batches).toBe(0);
  });

  it('reads a damaged file as null', () => {
    const dir = tempDir();
    const spool = new Spool(dir, { maxAgeSeconds: 86_400, maxBytes: 1 << 20 });
    spool.open();
    const { item } = spool.write(batch(T0), 0);
    writeFileSync(join(dir, item.name), '{"version":1,"datums":');
    expect(spool.read(item)).toBeNull();
  });
});

describe('ClosedLedger', () => {
  it('remembers closed interval ids across instances and forgets the old ones', () => {
    const dir = tempDir();
    const ledger = new ClosedLedger(dir, 10 * MIN);
    ledger.open();
    ledger.mark(`${T0}-r1-0`);
    ledger.mark(`${T0 + 20 * MIN}-r1-1`);
    const again = new ClosedLedger(dir, 10 * MIN);
    expect([again.has(`${T0}-r1-0`), again.has(`${T0}-r2-0`), again.has('../../etc/passwd')]).toEqual([true, false, false]);
    expect(again.prune(T0 + 25 * MIN)).toBe(1);
    expect([again.has(`${T0}-r1-0`), again.has(`${T0 + 20 * MIN}-r1-1`)]).toEqual([false, true]);
    expect(() => again.mark('../x')).toThrow(/not an interval id/);
  });

  it.skipIf(process.getuid?.() === 0)('throws when its directory is not writable (the sink logs it)', () => {
    const dir = tempDir();
    chmodSync(dir, 0o500);
    expect(() => new ClosedLedger(dir, MIN).open()).toThrow(/EACCES/);
  });
});
