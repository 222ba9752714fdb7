// Test harness for the metrics end-to-end tests: SDK environment for moto, a sink factory on an injected clock, and read-back with GetMetricData.

import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DEFAULT_METRICS_CONFIG, type MetricsConfig, type MetricsIdentity } from '../../../src/sinks/metrics/config.js';
import type { MetricsSink, MetricsSinkDeps } from '../../../src/sinks/metrics/metrics-sink.js';
import { createMetricsSink } from '../../../src/sinks/create-metrics-sink.js';
import { MotoServer } from '../../helpers/moto.js';

let identityCounter = 0;

/**
 * An instance identity of its own per test. moto 5.2.1's GetMetricData
 * ignores the namespace when the query has dimensions, so tests sharing one
 * moto keep apart by InstanceId (and group name).
 */
export function uniqueIdentity(): MetricsIdentity {
  identityCounter += 1;
  const n = `${process.pid.toString(16)}${identityCounter.toString(16).padStart(4, '0')}`.padStart(17, '0').slice(-17);
  return { instanceId: `i-${n}`, autoScalingGroupName: `e2e-asg-${n}` };
}

/**
 * The standard SDK chain, pointed at moto: fake keys from the environment (so
 * the chain never asks an instance metadata service), and no gzip request
 * bodies: moto_server 5.2.1 decompresses them twice and answers 500.
 */
const SDK_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_DISABLE_REQUEST_COMPRESSION: 'true',
};

/** Sets SDK_ENV; returns a function that puts the environment back. */
export function useMotoSdkEnv(): () => void {
  const saved = Object.fromEntries(Object.keys(SDK_ENV).map((k) => [k, process.env[k]]));
  Object.assign(process.env, SDK_ENV);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** A minute boundary ten minutes ago: intervals of the tests fall into one minute, recent enough for any retention check. */
export function testEpoch(): number {
  return Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

/** A log that keeps what it is told. */
export function recordingLog(): MetricsSinkDeps['log'] & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: object, msg: string): void => void lines.push({ level, obj, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

let namespaceCounter = 0;

/** A namespace of its own per sink under test (moto keeps everything in one process). */
export function uniqueNamespace(label: string): string {
  namespaceCounter += 1;
  return `IMDSSniffE2E/${label}/${process.pid}-${namespaceCounter}`;
}

export function tempSpoolDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'imds-sniff-metrics-e2e-')), 'spool');
}

/** Batch files left in a spool directory. */
export function spoolFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.json'));
}

/** A clock the test moves by hand. */
export interface Clock {
  nowMs: number;
}

/** A cloudwatch MetricsSink on 1-second intervals, the injected clock and fast backoff. */
export function cloudWatchSink(
  endpoint: string, clock: Clock, identity: MetricsIdentity, over: Partial<MetricsConfig> = {}, deps: Partial<MetricsSinkDeps> = {},
): { sink: MetricsSink; config: MetricsConfig; log: ReturnType<typeof recordingLog> } {
  const log = recordingLog();
  const config: MetricsConfig = {
    ...DEFAULT_METRICS_CONFIG,
    sink: 'cloudwatch', region: 'us-east-1', endpointUrl: endpoint, intervalSeconds: 1, maxAttempts: 3,
    namespace: uniqueNamespace('default'), spoolDir: tempSpoolDir(), ...over,
  };
  const sink = createMetricsSink(config, identity, { log, now: () => clock.nowMs, lateGraceMs: 200, backoffBaseMs: 20, backoffCapMs: 200, ...deps });
  return { sink, config, log };
}

/** A client that reads straight from moto (not through a proxy). */
export function readClient(endpoint: string): CloudWatchClient {
  return new CloudWatchClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

/** Per timestamp (ms): the Sum and how many datums made it (SampleCount), from GetMetricData at 1-second periods. */
export async function readSeries(client: CloudWatchClient, namespace: string, metric: string, dimensions: Record<string, string>, fromMs: number, toMs: number): Promise<Map<number, { sum: number; samples: number }>> {
  const Metric = { Namespace: namespace, MetricName: metric, Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) };
  const queries: MetricDataQuery[] = [
    { Id: 'sum', MetricStat: { Metric, Period: 1, Stat: 'Sum' } },
    { Id: 'samples', MetricStat: { Metric, Period: 1, Stat: 'SampleCount' } },
  ];
  const out = await client.send(new GetMetricDataCommand({ StartTime: new Date(fromMs), EndTime: new Date(toMs), MetricDataQueries: queries }));
  const series = new Map<number, { sum: number; samples: number }>();
  const [sum, samples] = ['sum', 'samples'].map((id) => out.MetricDataResults?.find((r) => r.Id === id));
  (sum?.Timestamps ?? []).forEach((t, i) => series.set(t.getTime(), { sum: sum?.Values?.[i] ?? NaN, samples: 0 }));
  (samples?.Timestamps ?? []).forEach((t, i) => {
    const entry = series.get(t.getTime());
    if (entry !== undefined) entry.samples = samples?.Values?.[i] ?? NaN;
  });
  return series;
}

/** `{offset from epoch in seconds: sum}` for compact assertions; every datum must have arrived exactly once. */
export async function sumsBySecond(client: CloudWatchClient, namespace: string, metric: string, dimensions: Record<string, string>, epochMs: number): Promise<Record<number, number>> {
  const series = await readSeries(client, namespace, metric, dimensions, epochMs - 60_000, epochMs + 120_000);
  const out: Record<number, number> = {};
  for (const [t, { sum, samples }] of [...series].sort(([a], [b]) => a - b)) {
    if (samples !== 1) throw new Error(`${metric} ${JSON.stringify(dimensions)} at +${(t - epochMs) / 1000}s arrived ${samples} times`);
    out[(t - epochMs) / 1000] = sum;
  }
  return out;
}

/** Every metric series in a namespace as `Metric{Name=Value,…}`, sorted (moto lists a series once per datum: deduplicated). */
export async function listSeries(client: CloudWatchClient, namespace: string): Promise<string[]> {
  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await client.send(new ListMetricsCommand({ Namespace: namespace, NextToken }));
    for (const m of page.Metrics ?? []) {
      const dims = [...(m.Dimensions ?? [])].sort((a, b) => ((a.Name ?? '') < (b.Name ?? '') ? -1 : 1)).map((d) => `${d.Name ?? ''}=${d.Value ?? ''}`);
      names.push(`${m.MetricName ?? ''}{${dims.join(',')}}`);
    }
    NextToken = page.NextToken;
  } while (NextToken !== undefined);
  return [...new Set(names)].sort();
}

/** One moto_server for a test file, with the SDK environment it needs; `stop()` undoes both. */
export async function startMotoForSuite(): Promise<{ moto: MotoServer; cw: CloudWatchClient; stop: () => Promise<void> }> {
  const restoreEnv = useMotoSdkEnv();
  const moto = await MotoServer.start();
  return {
    moto,
    cw: readClient(moto.endpoint),
    stop: async () => {
      await moto.stop();
      restoreEnv();
    },
  };
}
