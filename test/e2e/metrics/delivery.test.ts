// End to end against moto_server: a known workload over three intervals → exact sums per process and instance, read back with GetMetricData / ListMetrics.

import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MotoServer, motoSkipReason } from '../../helpers/moto.js';
import { proc, requestEvent } from '../../unit/sinks/metrics/request-event.js';
import { cloudWatchSink, uniqueIdentity, listSeries, readClient, spoolFiles, sumsBySecond, testEpoch, uniqueNamespace, startMotoForSuite, type Clock } from './harness.js';

const skip = motoSkipReason();
const CONTAINER = 'c0ffee0000aa11bb22cc33dd44ee55ff66778899aabbccddeeff001122334455';

describe.skipIf(skip !== null)(skip === null ? 'metrics to CloudWatch (moto)' : `metrics to CloudWatch (skipped: ${skip})`, () => {
  let moto: MotoServer;
  let stopMoto: () => Promise<void>;
  let cw: CloudWatchClient;

  beforeAll(async () => {
    ({ moto, cw, stop: stopMoto } = await startMotoForSuite());
  });

  afterAll(async () => {
    await stopMoto?.();
  });

  it('publishes exact per-process and instance counts per interval, zeros for a silent one, nothing for zero process series', async () => {
    const B = testEpoch();
    const clock: Clock = { nowMs: B };
    const namespace = uniqueNamespace('delivery');
    const id = uniqueIdentity();
    const { sink, config } = cloudWatchSink(moto.endpoint, clock, id, { namespace, includeAutoScalingGroup: true });
    const curl = proc('/usr/bin/curl');
    const node = proc('/usr/bin/node');
    const python = proc('/usr/bin/python3', { container_id: CONTAINER });
    // Interval +0 s.
    for (const status of [200, 200, 401]) sink.write(requestEvent(B + 100, { ...curl, status }));
    sink.write(requestEvent(B + 200, { ...node, kind: 'v2_token', method: 'PUT' }));
    for (let i = 0; i < 2; i++) sink.write(requestEvent(B + 300, { ...node, kind: 'v2_get' }));
    for (let i = 0; i < 2; i++) sink.write(requestEvent(B + 400, { ...node, kind: 'v2_token', own: true }));
    for (let i = 0; i < 2; i++) sink.write(requestEvent(B + 999, python));
    clock.nowMs = B + 1300;
    await sink.tick();
    // Interval +1 s.
    sink.write(requestEvent(B + 1000, curl));
    for (const status of [200, 200, 200, 200, 404]) sink.write(requestEvent(B + 1500, { ...node, kind: 'v2_get', status }));
    clock.nowMs = B + 2300;
    await sink.tick();
    // Interval +2 s: silence.
    clock.nowMs = B + 3300;
    await sink.tick();

    expect(sink.stats).toMatchObject({ eventsCounted: 14, ownIgnored: 2, intervalsClosed: 3, bufferedBatches: 0 });
    expect(sink.stats.publisher).toMatchObject({ calls: 3, batchesSent: 3, retries: 0, droppedBatches: 0 });
    expect(spoolFiles(config.spoolDir)).toEqual([]);

    const p = (process: string): Record<string, string> => ({ InstanceId: id.instanceId, Process: process });
    const instance = { InstanceId: id.instanceId };
    const group = { AutoScalingGroupName: id.autoScalingGroupName ?? '' };
    const expected: [string, Record<string, string>, Record<number, number>][] = [
      ['IMDSv1Calls', p('curl'), { 0: 3, 1: 1 }],
      ['IMDSv1Rejected', p('curl'), { 0: 1 }],
      ['IMDSErrors', p('curl'), { 0: 1 }],
      ['IMDSv2TokenCalls', p('node'), { 0: 1 }],
      ['IMDSv2Calls', p('node'), { 0: 2, 1: 5 }],
      ['IMDSErrors', p('node'), { 1: 1 }],
      ['IMDSv1Calls', p('python3@c0ffee0000aa'), { 0: 2 }],
      ['IMDSv1Calls', instance, { 0: 5, 1: 1, 2: 0 }],
      ['IMDSv2TokenCalls', instance, { 0: 1, 1: 0, 2: 0 }],
      ['IMDSv2Calls', instance, { 0: 2, 1: 5, 2: 0 }],
      ['IMDSv1Rejected', instance, { 0: 1, 1: 0, 2: 0 }],
      ['IMDSErrors', instance, { 0: 1, 1: 1, 2: 0 }],
      ['IMDSv1Calls', group, { 0: 5, 1: 1, 2: 0 }],
      ['IMDSv2Calls', group, { 0: 2, 1: 5, 2: 0 }],
    ];
    for (const [metric, dims, sums] of expected) {
      expect.soft(await sumsBySecond(cw, namespace, metric, dims, B), `${metric} ${JSON.stringify(dims)}`).toEqual(sums);
    }
    const series = await listSeries(cw, namespace);
    const perProcess = series.filter((s) => s.includes('Process='));
    expect(perProcess).toEqual([
      'IMDSErrors{Process=curl}', 'IMDSErrors{Process=node}', 'IMDSv1Calls{Process=curl}', 'IMDSv1Calls{Process=python3@c0ffee0000aa}',
      'IMDSv1Rejected{Process=curl}', 'IMDSv2Calls{Process=node}', 'IMDSv2TokenCalls{Process=node}',
    ].map((s) => s.replace('{', `{InstanceId=${id.instanceId},`)));
    expect(series.length).toBe(perProcess.length + 10);
    await sink.close();
  });

  it('25 processes with maxProcesses 20: one PutMetricData call per interval, 5 processes counted as other and logged once', async () => {
    const B = testEpoch() + 20_000;
    const clock: Clock = { nowMs: B };
    const namespace = uniqueNamespace('cardinality');
    const id = uniqueIdentity();
    const { sink, log } = cloudWatchSink(moto.endpoint, clock, id, { namespace, includeAutoScalingGroup: true, maxProcesses: 20 });
    const intervals = 3;
    for (let k = 0; k < intervals; k++) {
      for (let n = 0; n < 25; n++) {
        const who = proc(`/opt/app/worker-${String(n).padStart(2, '0')}`);
        sink.write(requestEvent(B + k * 1000 + n, who));
        sink.write(requestEvent(B + k * 1000 + n, { ...who, kind: 'v2_token', method: 'PUT' }));
        sink.write(requestEvent(B + k * 1000 + n, { ...who, kind: 'v2_get' }));
      }
      clock.nowMs = B + (k + 1) * 1000 + 300;
      await sink.tick();
    }
    const publisher = sink.stats.publisher;
    expect(publisher).toMatchObject({ calls: intervals, batchesSent: intervals, retries: 0 });
    // 21 processes × 3 non-zero metrics + 5 instance + 5 Auto Scaling group aggregates.
    expect(publisher?.datumsSent).toBe(intervals * (21 * 3 + 5 + 5));
    const folded = log.lines.filter((l) => l.msg.startsWith('process dimension limit'));
    expect(folded.map((l) => l.obj)).toEqual([20, 21, 22, 23, 24].map((n) => ({ processes: [`worker-${n}`], maxProcesses: 20 })));
    expect(await sumsBySecond(cw, namespace, 'IMDSv1Calls', { InstanceId: id.instanceId, Process: 'other' }, B)).toEqual({ 0: 5, 1: 5, 2: 5 });
    expect(await sumsBySecond(cw, namespace, 'IMDSv1Calls', { InstanceId: id.instanceId }, B)).toEqual({ 0: 25, 1: 25, 2: 25 });
    const processes = new Set((await listSeries(cw, namespace)).map((s) => /Process=([^}]+)/.exec(s)?.[1]).filter((x) => x !== undefined));
    expect(processes.size).toBe(21);
    await sink.close();
  });

  it('close publishes the partial interval, timestamped at its start, within the deadline', async () => {
    const B = testEpoch() + 40_000;
    const clock: Clock = { nowMs: B };
    const namespace = uniqueNamespace('close');
    const id = uniqueIdentity();
    const { sink, config } = cloudWatchSink(moto.endpoint, clock, id, { namespace, intervalSeconds: 10 });
    sink.write(requestEvent(B + 1000));
    sink.write(requestEvent(B + 4000));
    clock.nowMs = B + 4500;
    const started = Date.now();
    await sink.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(spoolFiles(config.spoolDir)).toEqual([]);
    expect(await sumsBySecond(cw, namespace, 'IMDSv1Calls', { InstanceId: id.instanceId, Process: 'curl' }, B)).toEqual({ 0: 2 });
    sink.write(requestEvent(B + 5000));
    expect(sink.stats.eventsCounted).toBe(2);
  });
});
