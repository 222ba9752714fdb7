// Daemon benchmark: CPU and RSS under mixed load with CloudWatch publishing (moto), PutMetricData calls
// per interval, and the on-disk buffer after an outage, then its drain.
// Usage (root, after `npm run build`): node dist/benchmarks/daemon.js [--seconds 600] [--interval 60s] [--json FILE]

import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/config/duration.js';
import { peakRssMib, treeCpuTicks as ticks } from './proc-usage.js';
import { runClient, testbedScript } from '../src/testbed/clients.js';
import { createTestbed, type Testbed } from '../src/testbed/testbed.js';
import { DaemonProcess } from '../test/helpers/daemon-process.js';
import { MotoServer } from '../test/helpers/moto.js';
import { waitUntil } from '../test/helpers/wait-until.js';

const READBACK = fileURLToPath(new URL('../../test/helpers/cloudwatch-readback.mjs', import.meta.url));
const ENV: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DISABLE_REQUEST_COMPRESSION: 'true' };
const INSTANCE = 'i-0bbbbbbbbbbbbbbbb';

function dirBytes(dir: string): number {
  let total = 0;
  try {
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, name.name);
      total += name.isDirectory() ? dirBytes(path) : statSync(path).size;
    }
  } catch {
    /* absent */
  }
  return total;
}

function readback(tb: Testbed, moto: MotoServer): Record<string, number> {
  const out = execFileSync('ip', ['netns', 'exec', tb.nsName('host'), process.execPath, READBACK, moto.endpoint, 'IMDSSniff', INSTANCE], { encoding: 'utf8', env: ENV, stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out) as Record<string, number>;
}

/** Mixed load for `seconds`: new connections, keep-alive requests and short-lived curls. Resolves with requests sent. */
async function mixedLoad(tb: Testbed, seconds: number): Promise<number> {
  const generator = (mode: string, rate: number) =>
    runClient(tb, 'host', [process.execPath, testbedScript('load-generator'), mode, String(rate), String(seconds), '5']).then((r) => (JSON.parse(r.stdout) as { ok: number }).ok);
  const curls = (async () => {
    let sent = 0;
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      const r = await runClient(tb, 'host', ['curl', '-s', '-o', '/dev/null', 'http://169.254.169.254/latest/meta-data/ami-id']);
      if (r.code === 0) sent += 1;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return sent;
  })();
  const [a, b, c] = await Promise.all([generator('new-connections', 10), generator('keep-alive', 50), curls]);
  return a + b + c;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '600' }, interval: { type: 'string', default: '60s' }, json: { type: 'string' } } });
  const seconds = Number(values.seconds);
  const intervalSeconds = parseDuration(values.interval, '--interval') / 1000;
  const tb = await createTestbed({ prefix: `imdsbd${process.pid % 10000}`, block: 61, mock: { instanceId: INSTANCE } });
  const moto = await MotoServer.start(undefined, tb.nsName('host'));
  const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-bench-daemon-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ stateDir: join(dir, 'state'), logs: { eventsFile: join(dir, 'events.jsonl'), logV2: 'summary' }, metrics: { endpointUrl: moto.endpoint, interval: `${intervalSeconds}s` } }));
  const results: Record<string, unknown> = { machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`, seconds, intervalSeconds };
  let failed = false;
  try {
    // 1. Publishing under mixed load.
    let daemon = await DaemonProcess.start(tb.nsName('host'), ['--config', config], ENV);
    let pid = (daemon.child as ChildProcess).pid as number;
    let t0 = ticks(pid);
    let start = Date.now();
    const sent = await mixedLoad(tb, seconds);
    const elapsed = (Date.now() - start) / 1000;
    const cpu = Math.round(((ticks(pid) - t0) / 100 / elapsed) * 1000) / 10;
    const rss = peakRssMib(pid);
    await daemon.stop('SIGTERM');
    const stopped = daemon.lines.find((l) => l.msg === 'stopped') as { metrics?: { intervalsClosed: number; publisher: { calls: number; datumsSent: number } } } | undefined;
    const delivered = readback(tb, moto)['IMDSv1Calls|*'] ?? 0;
    const calls = stopped?.metrics?.publisher.calls ?? 0;
    const intervals = stopped?.metrics?.intervalsClosed ?? 0;
    results['publishing'] = {
      requests_sent: sent,
      requests_delivered_to_cloudwatch: delivered,
      cpu_percent_of_one_core: cpu,
      peak_rss_mib: rss,
      intervals,
      put_metric_data_calls: calls,
      calls_per_interval: intervals === 0 ? null : Math.round((calls / intervals) * 100) / 100,
      events_log_bytes: statSync(join(dir, 'events.jsonl')).size,
    };
    if (delivered !== sent) failed = true;

    // 2. The same load while CloudWatch is unreachable: the buffer grows, then drains exactly once.
    await moto.stop();
    daemon = await DaemonProcess.start(tb.nsName('host'), ['--config', config], ENV);
    pid = (daemon.child as ChildProcess).pid as number;
    t0 = ticks(pid);
    start = Date.now();
    const sentOffline = await mixedLoad(tb, seconds);
    const spool = join(dir, 'state', 'metrics-spool');
    const bufferBytes = dirBytes(spool);
    const offlineCpu = Math.round(((ticks(pid) - t0) / 100 / ((Date.now() - start) / 1000)) * 1000) / 10;
    await moto.restart();
    const drainStart = Date.now();
    // Not drained within 5 minutes is a figure too (the read-back short of what was sent), not a failure.
    await waitUntil(() => (readback(tb, moto)['IMDSv1Calls|*'] ?? 0) >= sentOffline, 5 * 60_000, 'the spool to drain', { intervalMs: 1000 }).catch(() => undefined);
    const drainSeconds = (Date.now() - drainStart) / 1000;
    await daemon.stop('SIGTERM');
    const after = readback(tb, moto)['IMDSv1Calls|*'] ?? 0;
    const outageStats = daemon.lines.find((l) => l.msg === 'stopped') as { metrics?: { intervalsClosed: number; publisher: { calls: number } } } | undefined;
    results['outage'] = {
      requests_sent: sentOffline,
      put_metric_data_calls_outage_and_drain: outageStats?.metrics?.publisher.calls ?? null,
      intervals: outageStats?.metrics?.intervalsClosed ?? null,
      buffer_bytes_after_outage: bufferBytes,
      cpu_percent_of_one_core: offlineCpu,
      delivered_after_restart: after,
      drain_seconds: Math.round(drainSeconds * 10) / 10,
    };
    if (after !== sentOffline) failed = true;
  } finally {
    await moto.stop();
    await tb.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  if (failed) process.stderr.write('target missed: delivered counts differ from requests sent\n');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`benchmark failed: ${(error as Error).stack}\n`);
    process.exit(1);
  },
);
