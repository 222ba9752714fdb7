// End to end against moto_server behind a proxy that answers PutMetricData with AWS errors: retried, kept or dropped, never doubled.

import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MotoServer, motoSkipReason } from '../../helpers/moto.js';
import { ACCESS_DENIED, INTERNAL_FAILURE, INVALID_PARAMETER, SERVICE_UNAVAILABLE, THROTTLING, ThrottleProxy } from '../../helpers/throttle-proxy.js';
import { requestEvent } from '../../unit/sinks/metrics/request-event.js';
import { cloudWatchSink, readClient, spoolFiles, sumsBySecond, testEpoch, uniqueIdentity, uniqueNamespace, startMotoForSuite, type Clock } from './harness.js';

const skip = motoSkipReason();

describe.skipIf(skip !== null)(skip === null ? 'PutMetricData errors (moto behind a proxy)' : `PutMetricData errors (skipped: ${skip})`, () => {
  let moto: MotoServer;
  let proxy: ThrottleProxy;
  let stopMoto: () => Promise<void>;
  let cw: CloudWatchClient;

  beforeAll(async () => {
    ({ moto, cw, stop: stopMoto } = await startMotoForSuite());
  });

  beforeEach(async () => {
    proxy = await ThrottleProxy.start(moto.port);
  });

  afterEach(async () => {
    await proxy?.close();
  });

  afterAll(async () => {
    await stopMoto?.();
  });

  /** A sink through the proxy, and a function that writes `n` IMDSv1 calls into interval k and ticks past it. */
  function setup(offsetMs: number): { sink: ReturnType<typeof cloudWatchSink>['sink']; log: ReturnType<typeof cloudWatchSink>['log']; interval: (k: number, n: number) => Promise<void>; v1: () => Promise<Record<number, number>>; spoolDir: string } {
    const B = testEpoch() + offsetMs;
    const clock: Clock = { nowMs: B };
    const id = uniqueIdentity();
    const namespace = uniqueNamespace('throttling');
    const { sink, log, config } = cloudWatchSink(proxy.endpoint, clock, id, { namespace, maxAttempts: 4 });
    return {
      sink, log, spoolDir: config.spoolDir,
      interval: async (k, n) => {
        for (let i = 0; i < n; i++) sink.write(requestEvent(B + k * 1000 + i));
        clock.nowMs = B + (k + 1) * 1000 + 300;
        await sink.tick();
      },
      v1: () => sumsBySecond(cw, namespace, 'IMDSv1Calls', { InstanceId: id.instanceId }, B),
    };
  }

  it('retries throttling (HTTP 400 Throttling) and 5xx with backoff, then delivers exactly once', async () => {
    const { sink, log, interval, v1 } = setup(0);
    proxy.failNext(THROTTLING, THROTTLING, SERVICE_UNAVAILABLE);
    await interval(0, 3);
    expect(proxy.stats).toEqual({ putCalls: 4, failed: 3, forwarded: 1 });
    expect(sink.stats.publisher).toMatchObject({ calls: 4, retries: 3, batchesSent: 1, deferredFlushes: 0 });
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => [(l.obj as { code: string }).code, (l.obj as { status: number }).status])).toEqual([
      ['Throttling', 400], ['Throttling', 400], ['ServiceUnavailable', 503],
    ]);
    expect(await v1()).toEqual({ 0: 3 });
    await sink.close();
  });

  it('keeps a batch still throttled after maxAttempts and sends it, once, before the next interval', async () => {
    const { sink, log, interval, v1, spoolDir } = setup(10_000);
    proxy.failNext(THROTTLING, INTERNAL_FAILURE, THROTTLING, THROTTLING);
    await interval(0, 2);
    expect(spoolFiles(spoolDir)).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['could not publish metrics to CloudWatch']);
    await interval(1, 5);
    expect(spoolFiles(spoolDir)).toEqual([]);
    expect(proxy.stats).toEqual({ putCalls: 6, failed: 4, forwarded: 2 });
    expect(await v1()).toEqual({ 0: 2, 1: 5 });
    await sink.close();
  });

  it('does not retry AccessDenied within a flush: logs the IAM hint, keeps the batch, delivers it next interval', async () => {
    const { sink, log, interval, v1 } = setup(20_000);
    proxy.failNext(ACCESS_DENIED);
    await interval(0, 1);
    expect(proxy.stats.putCalls).toBe(1);
    const error = log.lines.find((l) => l.level === 'error');
    expect(error?.obj).toMatchObject({ code: 'AccessDenied', status: 403, hint: expect.stringContaining('cloudwatch:PutMetricData') as unknown });
    await interval(1, 2);
    expect(await v1()).toEqual({ 0: 1, 1: 2 });
    await sink.close();
  });

  it('drops and counts a batch refused as invalid, and goes on with the next', async () => {
    const { sink, log, interval, v1 } = setup(30_000);
    proxy.failNext(INVALID_PARAMETER);
    await interval(0, 4);
    await interval(1, 6);
    expect(sink.stats.publisher).toMatchObject({ droppedBatches: 1, droppedIntervals: 1, retries: 0, batchesSent: 1 });
    expect(log.lines.find((l) => l.msg.includes('refused a metrics batch as invalid'))?.obj).toMatchObject({ code: 'InvalidParameterValue', status: 400 });
    expect(await v1()).toEqual({ 1: 6 });
    await sink.close();
  });
});
