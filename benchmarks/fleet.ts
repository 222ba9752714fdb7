// Fleet benchmark: `imds-sniff fleet inventory` and `fleet report` (the CLI, as operators run it) against moto_server with the
// test emulator, on a generated fleet (default 1020 instances: 3 regions × 2 accounts). Prints wall time and API calls per
// 1000 instances, GetMetricData calls per 500 series, and a projection to 50 000 instances from the call counts and
// stated per-call latencies of the real APIs (moto answers from memory: its times say nothing about AWS's).
// Usage: node dist/benchmarks/fleet.js [--per-scope 170] [--days 7] [--json FILE]

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Inventory } from '../src/fleet/model.js';
import type { FleetReport } from '../src/fleet/report/model.js';
import { FleetEmulator } from '../test/helpers/fleet-emulator.js';
import { FLEET_ACCOUNTS, FLEET_REGIONS, FLEET_ROLE, generateFleet } from '../test/helpers/fleet-generator.js';
import { MotoServer } from '../test/helpers/moto.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const { values } = parseArgs({ options: { 'per-scope': { type: 'string', default: '170' }, days: { type: 'string', default: '7' }, json: { type: 'string' } } });
const perScope = Number(values['per-scope']);
const days = Number(values.days);

/**
 * Seconds per call assumed for AWS (not measured here: no AWS account is reachable from CI):
 * a DescribeInstances page of 1000 and a GetMetricData call of 500 queries are the slow ones.
 */
const LATENCY_S: Record<string, number> = { DescribeInstances: 2.0, GetMetricData: 2.0, ListMetrics: 0.5, DescribeImages: 1.0 };
const DEFAULT_LATENCY_S = 0.4;
const SCOPES_AT_ONCE = 8;

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true', AWS_DISABLE_REQUEST_COMPRESSION: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true', AWS_DISABLE_REQUEST_COMPRESSION: 'true' });

const moto = await MotoServer.start();
const emulator = await FleetEmulator.start(moto.port);
try {
  const generatedAt = performance.now();
  const truth = await generateFleet({ endpoint: emulator.endpoint, perScope, days, nowMs: Date.now(), namespace: 'IMDSSniff' });
  const generateMs = performance.now() - generatedAt;
  const scope = ['--accounts', FLEET_ACCOUNTS.join(','), '--role-name', FLEET_ROLE, '--regions', FLEET_REGIONS.join(','), '--endpoint-url', emulator.endpoint];
  const inv = await run(['fleet', 'inventory', ...scope, '-f', 'json'], env);
  if (inv.code !== 0) throw new Error(`inventory exited ${inv.code}: ${inv.stderr}`);
  const inventory = JSON.parse(inv.stdout) as Inventory;
  const rep = await run(['fleet', 'report', ...scope, '--days', String(days), '-f', 'json'], env);
  if (rep.code !== 0) throw new Error(`report exited ${rep.code}: ${rep.stderr}`);
  const report = JSON.parse(rep.stdout) as FleetReport;
  const n = inventory.instances.length;
  const scopes = inventory.scopes.length;
  const sum = (c: Record<string, number>): number => Object.values(c).reduce((a, b) => a + b, 0);
  const collection = report.collection ?? { calls: {}, series: 0, getMetricDataCalls: 0 };

  // Projection: 50 000 instances over the same mix, 50 scopes of 1000 (the calls that grow with instances grow, the
  // per-scope ones are paid per scope), 8 scopes at a time, each scope's calls one after the other, at LATENCY_S.
  const target = 50_000;
  const perScopeAt50k = target / 50;
  const perScopeCalls = (calls: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(calls).map(([action, count]) => {
    const grows = action === 'DescribeInstances' ? Math.ceil(perScopeAt50k / 1000) : action === 'GetMetricData' ? Math.ceil((collection.series / n) * perScopeAt50k / 500)
      : action === 'ListMetrics' ? Math.ceil((collection.series / n) * perScopeAt50k / 500) : action === 'DescribeImages' ? 1 : count / scopes;
    return [action, grows];
  }));
  const reportCalls = perScopeCalls(collection.calls);
  delete reportCalls['GetCallerIdentity'];
  delete reportCalls['AssumeRole'];
  const scopeSeconds = Object.entries(reportCalls).reduce((s, [action, count]) => s + count * (LATENCY_S[action] ?? DEFAULT_LATENCY_S), 0);
  const projectedSeconds = Math.ceil(50 / SCOPES_AT_ONCE) * scopeSeconds;

  const figures = {
    instances: n, scopes, generate_s: +(generateMs / 1000).toFixed(1),
    inventory: { wall_s: +(inv.ms / 1000).toFixed(1), api_calls: sum(inventory.calls), api_calls_per_1000_instances: +((sum(inventory.calls) * 1000) / n).toFixed(1), by_action: inventory.calls },
    report: {
      wall_s: +(rep.ms / 1000).toFixed(1), api_calls: sum(collection.calls), api_calls_per_1000_instances: +((sum(collection.calls) * 1000) / n).toFixed(1),
      series: collection.series, get_metric_data_calls: collection.getMetricDataCalls, get_metric_data_calls_per_500_series: +((collection.getMetricDataCalls * 500) / Math.max(1, collection.series)).toFixed(2),
    },
    projection_50000: { scopes: 50, calls_per_scope: reportCalls, seconds_per_scope: +scopeSeconds.toFixed(1), scopes_at_once: SCOPES_AT_ONCE, latency_s: LATENCY_S, default_latency_s: DEFAULT_LATENCY_S, report_minutes: +(projectedSeconds / 60).toFixed(1) },
    generated: truth.instances.size,
  };
  console.log(`fleet benchmark: ${n} instances in ${scopes} account/regions (moto_server ${moto.port}, emulator)`);
  console.log(`  inventory: ${figures.inventory.wall_s} s, ${figures.inventory.api_calls} API calls (${figures.inventory.api_calls_per_1000_instances} per 1000 instances)`);
  console.log(`  report:    ${figures.report.wall_s} s, ${figures.report.api_calls} API calls (${figures.report.api_calls_per_1000_instances} per 1000), ${figures.report.series} series in ${figures.report.get_metric_data_calls} GetMetricData calls (${figures.report.get_metric_data_calls_per_500_series} per 500 series)`);
  console.log(`  projected for 50 000 instances in 50 account/regions, ${SCOPES_AT_ONCE} at once: report in ${figures.projection_50000.report_minutes} min (${figures.projection_50000.seconds_per_scope} s per scope at the stated AWS latencies)`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(figures, null, 2)}\n`);
} finally {
  await emulator.close();
  await moto.stop();
}
