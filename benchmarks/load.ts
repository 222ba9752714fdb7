// End-to-end load benchmark: the built agent in a namespace testbed under sustained IMDS load.
// Usage (root, after `npm run build`): node dist/benchmarks/load.js [--seconds 60] [--idle-seconds 30] [--json FILE]
// Exits 1 when a target is missed (a request not reported, or attribution below 99 %).

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { AgentProcess } from '../src/testbed/agent-process.js';
import { curlV1, runClient, testbedScript, type ClientRun } from '../src/testbed/clients.js';
import { createTestbed, type Testbed } from '../src/testbed/testbed.js';
import type { TestbedNamespace } from '../src/testbed/testbed-layout.js';
import type { ImdsRequestEvent } from '../src/pipeline/events.js';

const CLOCK_TICKS_PER_SECOND = 100;

interface Figures {
  scenario: string;
  sent: number;
  reported: number;
  missed: number;
  /** Reported more than once (each request must be reported exactly once). */
  doubled: number;
  attributed_right: number;
  attribution_rate: number;
  agent_cpu_percent_of_one_core: number;
  agent_peak_rss_mib: number;
  delay_ms_p50: number | null;
  delay_ms_p99: number | null;
  seconds: number;
}

function ownTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

/** CPU ticks of the agent and every process it started (the trace_pipe reader). */
function cpuTicks(pid: number): number {
  let children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      children = children.concat(readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    /* gone */
  }
  return ownTicks(pid) + children.reduce((sum, child) => sum + cpuTicks(child), 0);
}

function peakRssMib(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
}

/** Runs `work` with a fresh agent and measures it. `rightPids` says which pids the requests must be attributed to. */
async function measure(
  tb: Testbed,
  scenario: string,
  work: () => Promise<{ sent: number; rightPids: Set<number>; path: string; portOwner?: Map<number, number> }>,
): Promise<Figures> {
  const agent = await AgentProcess.start(tb.nsName('host'), ['--no-identity']);
  const pid = agent.child.pid as number;
  const received = new Map<ImdsRequestEvent, number>();
  agent.child.stdout!.on('data', () => {
    const now = Date.now();
    for (const e of agent.requests) if (!received.has(e)) received.set(e, now);
  });
  const ticks0 = cpuTicks(pid);
  const t0 = Date.now();
  const { sent, rightPids, path, portOwner } = await work();
  await agent.waitForRequests(sent, 30_000, (e) => e.path === path).catch(() => undefined);
  const seconds = (Date.now() - t0) / 1000;
  const ticks = cpuTicks(pid) - ticks0;
  const rss = peakRssMib(pid);
  await agent.stop();
  const events = agent.requests.filter((e) => e.path === path);
  const delays = events
    .map((e) => (received.get(e) ?? Date.now()) - Date.parse(e.time))
    .sort((a, b) => a - b);
  // Right = the process that sent it; for curls, the one whose own source port the event carries.
  const right = events.filter((e) => e.pid !== null && (portOwner ? portOwner.get(e.src_port) === e.pid : rightPids.has(e.pid))).length;
  return {
    scenario,
    sent,
    reported: events.length,
    missed: Math.max(0, sent - events.length),
    doubled: Math.max(0, events.length - sent),
    attributed_right: right,
    attribution_rate: sent === 0 ? 1 : Math.round((right / sent) * 10000) / 10000,
    agent_cpu_percent_of_one_core: Math.round((ticks / CLOCK_TICKS_PER_SECOND / seconds) * 1000) / 10,
    agent_peak_rss_mib: rss,
    delay_ms_p50: percentile(delays, 50),
    delay_ms_p99: percentile(delays, 99),
    seconds: Math.round(seconds * 10) / 10,
  };
}

async function loadGenerator(tb: Testbed, mode: string, rate: number, seconds: number): Promise<{ sent: number; rightPids: Set<number>; path: string }> {
  const run = await runClient(tb, 'host', [process.execPath, testbedScript('load-generator'), mode, String(rate), String(seconds), '10']);
  const result = JSON.parse(run.stdout) as { ok: number; failed: number };
  if (result.failed > 0) throw new Error(`load generator: ${result.failed} requests failed`);
  return { sent: result.ok, rightPids: new Set([run.pid]), path: '/latest/meta-data/instance-id' };
}

async function curlBurst(tb: Testbed, ns: TestbedNamespace) {
  const runs: ClientRun[] = [];
  for (let wave = 0; wave < 8; wave++) {
    runs.push(...(await Promise.all(Array.from({ length: 25 }, () => curlV1(tb, ns, '/latest/meta-data/ami-id')))));
  }
  const ok = runs.filter((r) => r.stdout === '200' && r.localPort !== undefined);
  return {
    sent: ok.length,
    rightPids: new Set(ok.map((r) => r.pid)),
    portOwner: new Map(ok.map((r) => [r.localPort as number, r.pid])),
    path: '/latest/meta-data/ami-id',
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '60' }, 'idle-seconds': { type: 'string', default: '30' }, json: { type: 'string' } },
  });
  const seconds = Number(values.seconds);
  const idleSeconds = Number(values['idle-seconds']);
  const tb = await createTestbed({ prefix: `imdsbench${process.pid % 10000}`, block: 60 });
  const figures: Figures[] = [];
  try {
    const idle = async () => {
      await new Promise((r) => setTimeout(r, idleSeconds * 1000));
      return { sent: 0, rightPids: new Set<number>(), path: '/none' };
    };
    figures.push(await measure(tb, `idle, no IMDS traffic (${idleSeconds}s)`, idle));
    figures.push(await measure(tb, `100 new connections/s for ${seconds}s`, () => loadGenerator(tb, 'new-connections', 100, seconds)));
    figures.push(await measure(tb, `500 requests/s on 10 keep-alive connections for ${seconds}s`, () => loadGenerator(tb, 'keep-alive', 500, seconds)));
    figures.push(await measure(tb, '200 curl processes, 25 at a time (host)', () => curlBurst(tb, 'host')));
    figures.push(await measure(tb, '200 curl processes, 25 at a time (container)', () => curlBurst(tb, 'ctr')));
  } finally {
    await tb.destroy();
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
  process.stdout.write(`imds-sniff load benchmark on ${machine}\n`);
  console.table(
    figures.map((f) => ({
      scenario: f.scenario,
      sent: f.sent,
      missed: f.missed,
      doubled: f.doubled,
      'attributed %': f.sent === 0 ? '-' : Math.round(f.attribution_rate * 1000) / 10,
      'cpu % (1 core)': f.agent_cpu_percent_of_one_core,
      'peak RSS MiB': f.agent_peak_rss_mib,
      'delay p50 ms': f.delay_ms_p50,
      'delay p99 ms': f.delay_ms_p99,
    })),
  );
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ machine, figures }, null, 2)}\n`);
  const failures = figures.filter((f) => f.reported !== f.sent || (f.sent > 0 && f.attribution_rate < 0.99));
  for (const f of failures) {
    process.stderr.write(`target missed: ${f.scenario}: missed ${f.missed}, doubled ${f.doubled}, attribution ${f.attribution_rate}\n`);
  }
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`benchmark failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
