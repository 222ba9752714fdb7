// CPU profile of the agent under the benchmark's 100 new connections/s load: where its time goes.
// Usage (root, after `npm run build`): node dist/benchmarks/profile.js [--seconds 20] [--mode new-connections|keep-alive|idle] [--top 25] [--save FILE]
// Prints self and total time by function and self time by source file, from the agent's own V8
// profile (--cpu-prof), start-up left out; --save keeps the .cpuprofile.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AgentProcess } from '../src/testbed/agent-process.js';
import { runClient, testbedScript } from '../src/testbed/clients.js';
import { spawnInNetns } from '../src/testbed/netns.js';
import { createTestbed } from '../src/testbed/testbed.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The samples taken at least `fromUs` after the profile started (start-up left out), with their durations. */
function samplesFrom(profile: CpuProfile, fromUs: number): Array<{ id: number; us: number }> {
  const out: Array<{ id: number; us: number }> = [];
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (t - profile.startTime >= fromUs) out.push({ id, us: profile.timeDeltas[i + 1] ?? 0 });
  });
  return out;
}

/**
 * Time per key (µs) from the sample deltas: self time counts a sample for the function it was
 * in; total time counts it once for every distinct key on its stack (callers included).
 */
function timesBy(profile: CpuProfile, fromUs: number, keyOf: (n: ProfileNode) => string, total: boolean): Map<string, number> {
  const parent = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  for (const { id, us } of samplesFrom(profile, fromUs)) {
    const keys = new Set<string>();
    for (let n = byId.get(id); n; n = total ? parent.get(n.id) : undefined) keys.add(keyOf(n));
    for (const key of keys) out.set(key, (out.get(key) ?? 0) + us);
  }
  return out;
}

function shortUrl(url: string): string {
  const at = url.indexOf('/dist/');
  if (at >= 0) return url.slice(at + 6);
  const nm = url.indexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 1);
  return url || '(native)';
}

function print(title: string, times: Map<string, number>, totalUs: number, top: number): void {
  process.stdout.write(`\n${title}\n`);
  const rows = [...times].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, us] of rows) process.stdout.write(`${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      mode: { type: 'string', default: 'new-connections' },
      top: { type: 'string', default: '25' },
      /** Keep the raw .cpuprofile (for Chrome DevTools or speedscope). */
      save: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const dir = mkdtempSync(path.join(tmpdir(), 'imds-sniff-profile-'));
  const tb = await createTestbed({ prefix: `imdsprof${process.pid % 10000}`, block: 61 });
  try {
    const spawned = performance.now();
    const agent = await AgentProcess.start(tb.nsName('host'), ['--no-identity'], 20_000, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    // Samples from before the load are start-up: left out of the figures.
    const fromUs = (performance.now() - spawned) * 1000;
    if (values.mode === 'idle') {
      const churn = spawnInNetns(tb.nsName('host'), ['sh', '-c', 'while :; do sleep 0.05; done'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, seconds * 1000));
      churn.kill('SIGKILL');
    } else {
      const rate = values.mode === 'keep-alive' ? 500 : 100;
      await runClient(tb, 'host', [process.execPath, testbedScript('load-generator'), String(values.mode), String(rate), String(seconds), '10']);
    }
    await agent.stop();
    const file = readdirSync(dir).find((f) => f.includes(`.${agent.child.pid}.`));
    if (!file) throw new Error(`no profile of the agent (pid ${agent.child.pid}) in ${dir}`);
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    if (values.save) writeFileSync(values.save, JSON.stringify(profile));
    const total = profile.endTime - profile.startTime - fromUs;
    const top = Number(values.top);
    const fn = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    process.stdout.write(`agent profile, ${values.mode} for ${seconds}s: ${(total / 1e6).toFixed(1)} s wall after start-up\n`);
    print('self time by function', timesBy(profile, fromUs, fn, false), total, top);
    print('total time by function (with what it calls)', timesBy(profile, fromUs, fn, true), total, top);
    print('self time by file', timesBy(profile, fromUs, (n) => shortUrl(n.callFrame.url), false), total, top);
    return 0;
  } finally {
    await tb.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`profile failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
