// End to end against moto_server: CloudWatch unreachable for a while (moto stopped, then a new one), and the buffer's retention limits.

import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MotoServer, motoSkipReason } from '../../helpers/moto.js';
import { ThrottleProxy } from '../../helpers/throttle-proxy.js';
import { proc, requestEvent } from '../../unit/sinks/metrics/request-event.js';
import { cloudWatchSink, readClient, spoolFiles, sumsBySecond, testEpoch, uniqueIdentity, uniqueNamespace, startMotoForSuite, type Clock } from './harness.js';

const skip = motoSkipReason();

describe.skipIf(skip !== null)(skip === null ? 'metrics buffer across outages (moto)' : `metrics buffer across outages (skipped: ${skip})`, () => {
  let moto: MotoServer;
  let stopMoto: () => Promise<void>;
  let cw: CloudWatchClient;

  beforeAll(async () => {
    ({ moto, cw, stop: stopMoto } = await startMotoForSuite());
  });

  afterAll(async () => {
    await stopMoto?.();
  });

  it('moto stopped for two intervals, then a new moto: every interval arrives exactly once, in order, and the buffer empties', async () => {
    const B = testEpoch();
    const clock: Clock = { nowMs: B };
    const id = uniqueIdentity();
    const namespace = uniqueNamespace('outage');
    const { sink, config, log } = cloudWatchSink(moto.endpoint, clock, id, { namespace });
    const curl = { InstanceId: id.instanceId, Process: 'curl' };
    const instance = { InstanceId: id.instanceId };
    const perInterval = [3, 4, 5, 6];
    const node = proc('/usr/bin/node', { kind: 'v2_get' });
    const run = async (k: number): Promise<void> => {
      for (let i = 0; i < (perInterval[k] ?? 0); i++) sink.write(requestEvent(B + k * 1000 + i, i % 2 === 0 ? {} : node));
      clock.nowMs = B + (k + 1) * 1000 + 300;
      await sink.tick();
    };

    const total = (sums: Record<number, number>[]): number => sums.flatMap((s) => Object.values(s)).reduce((a, b) => a + b, 0);
    const read = (metric: string, dims: Record<string, string>): Promise<Record<number, number>> => sumsBySecond(cw, namespace, metric, dims, B);

    await run(0);
    const beforeStop = [await read('IMDSv1Calls', instance), await read('IMDSv2Calls', instance)];
    expect(beforeStop).toEqual([{ 0: 2 }, { 0: 1 }]);

    await moto.stop();
    await run(1);
    await run(2);
    expect(spoolFiles(config.spoolDir)).toHaveLength(2);
    expect(sink.stats).toMatchObject({ bufferedBatches: 2, publisher: { batchesSent: 1, deferredFlushes: 2, retries: 4 } });
    expect(log.lines.filter((l) => l.level === 'error').map((l) => (l.obj as { code: string }).code)).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);

    await moto.restart();
    await run(3);
    expect(spoolFiles(config.spoolDir)).toEqual([]);
    expect(sink.stats).toMatchObject({ bufferedBatches: 0, publisher: { batchesSent: 4, droppedBatches: 0 } });

    // The new moto holds only what arrived after the restart: intervals +1 s, +2 s and +3 s, once each.
    const afterRestart = [await read('IMDSv1Calls', instance), await read('IMDSv2Calls', instance)];
    expect(afterRestart).toEqual([{ 1: 2, 2: 3, 3: 3 }, { 1: 2, 2: 2, 3: 3 }]);
    expect(await read('IMDSv1Calls', curl)).toEqual({ 1: 2, 2: 3, 3: 3 });
    // Sent equals counted: what the first moto had plus what the second has.
    expect(total([...beforeStop, ...afterRestart])).toBe(sink.stats.eventsCounted);
    await sink.close();
  });

  it('does not hammer CloudWatch while it is unreachable: the next flush waits (5 s, doubling, up to an interval)', async () => {
    const B = testEpoch() + 200_000;
    const clock: Clock = { nowMs: B };
    const id = uniqueIdentity();
    const { sink } = cloudWatchSink('http://127.0.0.1:1', clock, id, { intervalSeconds: 60, maxAttempts: 2 });
    sink.write(requestEvent(B + 10));
    clock.nowMs = B + 62_500; // the first interval closes into the buffer
    for (let s = 0; s < 120; s++) {
      await sink.tick();
      clock.nowMs += 1000; // two minutes of one-second ticks, as the daemon's timer does
    }
    const calls = sink.stats.publisher?.calls ?? 0;
    // flushes at +0, +5, +15, +35 s, then one per interval: ~6 flushes of 2 attempts, not 120
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(16);
    await sink.close();
  });

  it.each([
    ['bufferMaxAgeSeconds', { bufferMaxAgeSeconds: 3 }, 'age'],
    ['bufferMaxBytes', { bufferMaxBytes: 4000 }, 'bytes'],
  ])('beyond %s the oldest intervals are dropped, counted and logged; the rest arrive', async (_label, limits, reason) => {
    const proxy = await ThrottleProxy.start(moto.port);
    try {
      const B = testEpoch() + 20_000 + (reason === 'age' ? 0 : 15_000);
      const clock: Clock = { nowMs: B };
      const id = uniqueIdentity();
      const namespace = uniqueNamespace(`retention-${reason}`);
      const { sink, config, log } = cloudWatchSink(proxy.endpoint, clock, id, { namespace, maxAttempts: 1, ...limits });
      proxy.setDown(true);
      for (let k = 0; k < 8; k++) {
        for (let i = 0; i <= k; i++) sink.write(requestEvent(B + k * 1000 + i));
        clock.nowMs = B + (k + 1) * 1000 + 300;
        await sink.tick();
      }
      const files = spoolFiles(config.spoolDir);
      expect(files.length).toBeLessThan(8);
      expect(sink.stats.bufferDroppedIntervals).toBe(8 - files.length);
      expect(sink.stats.bufferedBytes).toBeLessThanOrEqual(config.bufferMaxBytes);
      const drops = log.lines.filter((l) => l.msg.startsWith('metrics buffer full'));
      expect(drops.length).toBeGreaterThan(0);
      expect(drops.every((d) => (d.obj as { reason: string }).reason === reason)).toBe(true);

      proxy.setDown(false);
      clock.nowMs += 1000;
      await sink.tick();
      expect(spoolFiles(config.spoolDir)).toEqual([]);
      // Intervals 0 … dropped-1 never arrive; the newer ones (k + 1 events in interval k, then an empty one) arrive once each.
      const dropped = sink.stats.bufferDroppedIntervals;
      expect(dropped).toBeGreaterThanOrEqual(8 - files.length);
      const arrived = await sumsBySecond(cw, namespace, 'IMDSv1Calls', { InstanceId: id.instanceId }, B);
      const expected = Object.fromEntries(Array.from({ length: 9 - dropped }, (_, j) => dropped + j).map((k) => [k, k < 8 ? k + 1 : 0]));
      expect(arrived).toEqual(expected);
      expect(sink.stats.publisher?.batchesSent).toBe(9 - dropped);
      await sink.close();
    } finally {
      await proxy.close();
    }
  });
});
