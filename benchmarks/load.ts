// End-to-end load benchmark: the built agent in a namespace testbed under sustained IMDS load.
// Usage (root, after `npm run build`): node dist/benchmarks/load.js [--seconds 60] [--idle-seconds 30] [--warmup-seconds 20] [--agent-only] [--floors] [--only TEXT] [--json FILE]
// --floors adds the agent's fixed costs without its work (benchmarks/floor.ts) to the reference tools.
// Each tool gets the same sustained load for the warm-up first (the agent's JIT compiles its hot
// paths meanwhile; a host agent runs for days), then CPU is counted over the measured seconds.
// Exits 1 when a target is missed (a request not reported, or attribution below 99 %).

import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { parseArgs } from 'node:util';
import { AgentProcess } from '../src/testbed/agent-process.js';
import { curlV1, runClient, testbedScript, type ClientRun } from '../src/testbed/clients.js';
import { spawnInNetns } from '../src/testbed/netns.js';
import { createTestbed, type Testbed } from '../src/testbed/testbed.js';
import type { TestbedNamespace } from '../src/testbed/testbed-layout.js';
import type { ImdsRequestEvent } from '../src/contract/imds-request-event.js';
import { FLOOR_TOOLS, printsRequests, startReferenceTool, type ReferenceTool } from './capture-tools.js';
import { CLOCK_TICKS_PER_SECOND, treeCpuTicks, treePeakRssMib } from './proc-usage.js';
import { waitUntil } from '../test/helpers/wait-until.js';

const AGENT = 'imds-sniff --format json' as const;
type Tool = typeof AGENT | ReferenceTool;
const TOOLS: readonly Tool[] = [AGENT, 'tshark (each request)', 'tcpdump -w /dev/null'];

interface Figures {
  tool: Tool;
  scenario: string;
  sent: number;
  /** The agent: requests reported; tshark: request lines printed; tcpdump: null (it prints nothing). */
  reported: number | null;
  missed: number;
  /** Reported more than once (each request must be reported exactly once). */
  doubled: number;
  attributed_right: number | null;
  attribution_rate: number | null;
  /** The agent's own account: connections by how their process was found, and packets the kernel dropped. */
  attribution_counts?: Record<string, number>;
  kernel_drops?: number;
  cpu_percent_of_one_core: number;
  peak_rss_mib: number;
  delay_ms_p50: number | null;
  delay_ms_p99: number | null;
  seconds: number;
}

interface Work {
  sent: number;
  rightPids: Set<number>;
  path: string;
  portOwner?: Map<number, number>;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
}

/** CPU % of one core used by `pid` and its descendants while `work` ran (after its first `warmupMs`), and their peak RSS. */
async function usage<T>(pid: number, work: () => Promise<T>, warmupMs = 0): Promise<{ result: T; cpu: number; rss: number; seconds: number }> {
  const running = work();
  // A failure during the warm-up surfaces at the await below, not as an unhandled rejection.
  running.catch(() => {});
  if (warmupMs > 0) await new Promise((resolve) => setTimeout(resolve, warmupMs));
  const ticks0 = treeCpuTicks(pid);
  const t0 = Date.now();
  const result = await running;
  const seconds = (Date.now() - t0) / 1000;
  const cpu = Math.round(((treeCpuTicks(pid) - ticks0) / CLOCK_TICKS_PER_SECOND / seconds) * 1000) / 10;
  return { result, cpu, rss: treePeakRssMib(pid), seconds };
}

/** Runs `work` under tcpdump or tshark, started fresh in the instance namespace. */
async function measureReference(tb: Testbed, tool: ReferenceTool, { name: scenario, work, warmupMs }: Scenario): Promise<Figures> {
  const running = await startReferenceTool(tb.nsName('host'), tool);
  try {
    const pid = running.child.pid as number;
    // tshark prints a request once its answer is dissected: give it the same settling time as the agent.
    const { result, cpu, rss, seconds } = await usage(pid, async () => {
      const r = await work();
      // A request never printed is a figure (missed), not a failure: stop waiting at the deadline.
      if (printsRequests(tool)) await waitUntil(() => running.lines >= r.sent, 10_000, `${tool} to print every request`).catch(() => undefined);
      return r;
    }, warmupMs);
    const reported = printsRequests(tool) ? running.lines : null;
    return {
      tool,
      scenario,
      sent: result.sent,
      reported,
      missed: reported === null ? 0 : Math.max(0, result.sent - reported),
      doubled: reported === null ? 0 : Math.max(0, reported - result.sent),
      attributed_right: null,
      attribution_rate: null,
      cpu_percent_of_one_core: cpu,
      peak_rss_mib: rss,
      delay_ms_p50: null,
      delay_ms_p99: null,
      seconds: Math.round(seconds * 10) / 10,
    };
  } finally {
    await running.stop();
  }
}

/** Runs `work` with a fresh agent and measures it. `rightPids` says which pids the requests must be attributed to. */
async function measure(tb: Testbed, { name: scenario, work, warmupMs }: Scenario): Promise<Figures> {
  const agent = await AgentProcess.start(tb.nsName('host'), ['--no-identity']);
  const pid = agent.child.pid as number;
  const received = new Map<ImdsRequestEvent, number>();
  agent.child.stdout!.on('data', () => {
    const now = Date.now();
    for (const e of agent.requests) if (!received.has(e)) received.set(e, now);
  });
  const { result, cpu, rss, seconds } = await usage(pid, async () => {
    const r = await work();
    await agent.waitForRequests(r.sent, 30_000, (e) => e.path === r.path).catch(() => undefined);
    return r;
  }, warmupMs);
  const { sent, rightPids, path, portOwner } = result;
  const exit = await agent.stop();
  const events = agent.requests.filter((e) => e.path === path);
  const delays = events
    .map((e) => (received.get(e) ?? Date.now()) - Date.parse(e.time))
    .sort((a, b) => a - b);
  // Right = the process that sent it; for curls, the one whose own source port the event carries.
  const right = events.filter((e) => e.pid !== null && (portOwner ? portOwner.get(e.src_port) === e.pid : rightPids.has(e.pid))).length;
  return {
    tool: AGENT,
    scenario,
    sent,
    reported: events.length,
    attribution_counts: exit.summary?.attribution_counts ?? {},
    kernel_drops: exit.summary?.capture.kernel_drops ?? 0,
    missed: Math.max(0, sent - events.length),
    doubled: Math.max(0, events.length - sent),
    attributed_right: right,
    attribution_rate: sent === 0 ? 1 : Math.round((right / sent) * 10000) / 10000,
    cpu_percent_of_one_core: cpu,
    peak_rss_mib: rss,
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

/**
 * A shell in the instance namespace that starts about 20 short processes a second, as a
 * busy host does: fork and exec events reach the agent's trace readers even with no IMDS traffic.
 */
function processChurn(tb: Testbed): { stop(): void } {
  const child = spawnInNetns(tb.nsName('host'), ['sh', '-c', 'while :; do sleep 0.05; done'], { stdio: 'ignore' });
  return { stop: () => child.kill('SIGKILL') };
}

interface Scenario {
  name: string;
  work: () => Promise<Work>;
  /** Only the agent: these check attribution, which the reference tools do not do. */
  agentOnly?: boolean;
  /** The load's first milliseconds, not counted in CPU (every request still counts as sent). */
  warmupMs?: number;
}

function scenarios(tb: Testbed, seconds: number, idleSeconds: number, warmupSeconds: number): Scenario[] {
  const idle = async (): Promise<Work> => {
    const churn = processChurn(tb);
    try {
      await new Promise((r) => setTimeout(r, (warmupSeconds + idleSeconds) * 1000));
    } finally {
      churn.stop();
    }
    return { sent: 0, rightPids: new Set<number>(), path: '/none' };
  };
  const warm = warmupSeconds > 0 ? ` (after ${warmupSeconds}s of it)` : '';
  const warmupMs = warmupSeconds * 1000;
  return [
    { name: `idle: no IMDS traffic, ~20 new processes/s for ${idleSeconds}s${warm}`, work: idle, warmupMs },
    { name: `100 new connections/s for ${seconds}s${warm}`, work: () => loadGenerator(tb, 'new-connections', 100, warmupSeconds + seconds), warmupMs },
    { name: `500 requests/s on 10 keep-alive connections for ${seconds}s${warm}`, work: () => loadGenerator(tb, 'keep-alive', 500, warmupSeconds + seconds), warmupMs },
    { name: '200 curl processes, 25 at a time (host)', work: () => curlBurst(tb, 'host'), agentOnly: true },
    { name: '200 curl processes, 25 at a time (container)', work: () => curlBurst(tb, 'ctr'), agentOnly: true },
  ];
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(b > 0)) return '-';
  return `${Math.round((a / b) * 100) / 100}×`;
}

function printTables(machine: string, figures: Figures[]): void {
  process.stdout.write(`imds-sniff load benchmark on ${machine}\n`);
  console.table(
    figures.map((f) => ({
      tool: f.tool,
      scenario: f.scenario,
      sent: f.sent,
      reported: f.reported ?? '-',
      missed: f.missed,
      doubled: f.doubled,
      'attributed %': f.attribution_rate === null || f.sent === 0 ? '-' : Math.round(f.attribution_rate * 1000) / 10,
      'cpu % (1 core)': f.cpu_percent_of_one_core,
      'peak RSS MiB': f.peak_rss_mib,
      'delay p99 ms': f.delay_ms_p99 ?? '-',
    })),
  );
  const shared = [...new Set(figures.filter((f) => f.tool !== AGENT).map((f) => f.scenario))];
  const of = (tool: Tool, scenario: string) => figures.find((f) => f.tool === tool && f.scenario === scenario);
  process.stdout.write('agent / tshark (printed, not asserted: CI machines are noisy)\n');
  console.table(
    shared.map((scenario) => {
      const agent = of(AGENT, scenario);
      const tshark = of('tshark (each request)', scenario);
      return {
        scenario,
        'cpu agent/tshark': ratio(agent?.cpu_percent_of_one_core, tshark?.cpu_percent_of_one_core),
        'RSS agent/tshark': ratio(agent?.peak_rss_mib, tshark?.peak_rss_mib),
        'cpu agent/tcpdump': ratio(agent?.cpu_percent_of_one_core, of('tcpdump -w /dev/null', scenario)?.cpu_percent_of_one_core),
      };
    }),
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      'idle-seconds': { type: 'string', default: '30' },
      json: { type: 'string' },
      'agent-only': { type: 'boolean', default: false },
      floors: { type: 'boolean', default: false },
      'warmup-seconds': { type: 'string', default: '20' },
      /** Only the scenarios whose name contains this (e.g. "new connections"). */
      only: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const idleSeconds = Number(values['idle-seconds']);
  const floors = Object.keys(FLOOR_TOOLS) as Array<keyof typeof FLOOR_TOOLS>;
  const tools: readonly Tool[] = values['agent-only'] ? [AGENT] : values.floors ? [...TOOLS, ...floors] : TOOLS;
  const tb = await createTestbed({ prefix: `imdsbench${process.pid % 10000}`, block: 60 });
  const figures: Figures[] = [];
  try {
    const chosen = scenarios(tb, seconds, idleSeconds, Number(values['warmup-seconds'])).filter((s) => values.only === undefined || s.name.includes(values.only));
    for (const scenario of chosen) {
      // One after the other on the same load: each tool alone in the namespace while it is measured.
      for (const tool of scenario.agentOnly ? ([AGENT] as const) : tools) {
        figures.push(tool === AGENT ? await measure(tb, scenario) : await measureReference(tb, tool, scenario));
      }
    }
  } finally {
    await tb.destroy();
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}, node ${process.version}`;
  printTables(machine, figures);
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ machine, figures }, null, 2)}\n`);
  // The agent must report every request exactly once and name the right process; the ratios are figures.
  const failures = figures.filter((f) => f.tool === AGENT && (f.reported !== f.sent || (f.sent > 0 && (f.attribution_rate ?? 0) < 0.99)));
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
