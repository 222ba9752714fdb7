// End to end against moto_server: the agent dies (SIGKILL: no close) with batches in the buffer and an older state file; the next run sends everything once.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MotoServer, motoSkipReason } from '../../helpers/moto.js';
import { ThrottleProxy } from '../../helpers/throttle-proxy.js';
import { proc, requestEvent } from '../../unit/sinks/metrics/request-event.js';
import { cloudWatchSink, readClient, spoolFiles, sumsBySecond, testEpoch, uniqueIdentity, uniqueNamespace, startMotoForSuite, type Clock } from './harness.js';

const skip = motoSkipReason();

describe.skipIf(skip !== null)(skip === null ? 'metrics across an agent restart (moto)' : `metrics across an agent restart (skipped: ${skip})`, () => {
  let moto: MotoServer;
  let proxy: ThrottleProxy;
  let stopMoto: () => Promise<void>;
  let cw: CloudWatchClient;

  beforeAll(async () => {
    ({ moto, cw, stop: stopMoto } = await startMotoForSuite());
    proxy = await ThrottleProxy.start(moto.port);
  });

  afterAll(async () => {
    await proxy?.close();
    await stopMoto?.();
  });

  it('a new sink on the same spool and an older state file sends what the first left, each interval exactly once', async () => {
    const B = testEpoch();
    const clock: Clock = { nowMs: B };
    const id = uniqueIdentity();
    const namespace = uniqueNamespace('restart');
    const grace = { lateGraceMs: 1500 };
    const first = cloudWatchSink(proxy.endpoint, clock, id, { namespace }, grace);
    const spoolDir = first.config.spoolDir;
    const write = (sink: typeof first.sink, k: number, n: number): void => {
      for (let i = 0; i < n; i++) sink.write(requestEvent(B + k * 1000 + 100 + i, i === 0 ? proc('/usr/bin/node', { kind: 'v2_token', method: 'PUT' }) : {}));
    };

    write(first.sink, 0, 2);
    clock.nowMs = B + 2600;
    await first.sink.tick();
    expect(first.sink.stats.publisher?.batchesSent).toBe(1);

    proxy.setDown(true);
    write(first.sink, 1, 3);
    write(first.sink, 2, 4);
    // The daemon's state file, written now, holds intervals +1 s and +2 s as open.
    const stateFile = JSON.parse(JSON.stringify(first.sink.exportOpenInterval())) as { intervals: unknown[] };
    expect(stateFile.intervals).toHaveLength(2);
    clock.nowMs = B + 3600;
    await first.sink.tick();
    // Interval +1 s is now closed into the spool (CloudWatch unreachable); then SIGKILL: no close().
    expect(spoolFiles(spoolDir)).toHaveLength(1);
    expect(statSync(join(spoolDir, spoolFiles(spoolDir)[0] ?? '')).mode & 0o777).toBe(0o640);
    const countedBeforeKill = first.sink.stats.eventsCounted;

    proxy.setDown(false);
    clock.nowMs = B + 3700;
    const second = cloudWatchSink(proxy.endpoint, clock, id, { namespace, spoolDir }, { ...grace, resumeOpenInterval: stateFile });
    expect(second.sink.stats.resumed).toEqual({ imported: 1, skippedClosed: 1, invalid: null });
    expect(second.log.lines.map((l) => l.msg)).toContain('metrics buffer holds batches from an earlier run; sending them');
    write(second.sink, 3, 5);
    clock.nowMs = B + 5600;
    await second.sink.tick();

    expect(spoolFiles(spoolDir)).toEqual([]);
    const instance = { InstanceId: id.instanceId };
    const v1 = await sumsBySecond(cw, namespace, 'IMDSv1Calls', instance, B);
    const tokens = await sumsBySecond(cw, namespace, 'IMDSv2TokenCalls', instance, B);
    expect(v1).toEqual({ 0: 1, 1: 2, 2: 3, 3: 4 });
    expect(tokens).toEqual({ 0: 1, 1: 1, 2: 1, 3: 1 });
    const sent = [...Object.values(v1), ...Object.values(tokens)].reduce((a, b) => a + b, 0);
    expect(sent).toBe(countedBeforeKill + second.sink.stats.eventsCounted);
    expect(await sumsBySecond(cw, namespace, 'IMDSv1Calls', { ...instance, Process: 'curl' }, B)).toEqual({ 0: 1, 1: 2, 2: 3, 3: 4 });
    await second.sink.close();
  });

  it('close() with CloudWatch unreachable returns within its deadline and the next run sends the partial interval', async () => {
    const B = testEpoch() + 30_000;
    const clock: Clock = { nowMs: B };
    const id = uniqueIdentity();
    const namespace = uniqueNamespace('close-down');
    // The first run gets a proxy of its own that never comes back up: the deadline
    // aborts a call whose bytes may still be on their way, and a shared proxy
    // brought up right after close() would forward them to moto (a duplicate the
    // agent cannot prevent, and not what this test is about).
    const unreachable = await ThrottleProxy.start(moto.port);
    unreachable.setDown(true);
    const first = cloudWatchSink(unreachable.endpoint, clock, id, { namespace, maxAttempts: 100 }, { closeFlushMs: 800, backoffBaseMs: 100, backoffCapMs: 100 });
    first.sink.write(requestEvent(B + 100));
    first.sink.write(requestEvent(B + 200));
    clock.nowMs = B + 500;
    const started = Date.now();
    await first.sink.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(spoolFiles(first.config.spoolDir)).toHaveLength(1);
    expect(first.log.lines.map((l) => l.msg)).toContain('metrics not yet delivered stay in the buffer for the next start');

    await unreachable.close();
    expect(unreachable.stats.forwarded).toBe(0);
    clock.nowMs = B + 1500;
    const second = cloudWatchSink(proxy.endpoint, clock, id, { namespace, spoolDir: first.config.spoolDir });
    await second.sink.tick();
    expect(spoolFiles(first.config.spoolDir)).toEqual([]);
    expect(await sumsBySecond(cw, namespace, 'IMDSv1Calls', { InstanceId: id.instanceId }, B)).toEqual({ 0: 2 });
    await second.sink.close();
  });
});
