// Soak benchmark: the daemon under a churn of distinct short-lived containers and programs calling IMDS.
// Its RSS and state-file size must stay flat after warm-up (the per-process tables are bounded).
// Usage (root, after `npm run build`): node dist/benchmarks/soak.js [--minutes 30] [--containers 5000] [--json FILE]

import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createTestbed } from '../src/testbed/testbed.js';
import { DaemonProcess } from '../test/helpers/daemon-process.js';

/** Where to make the containers' cgroups: the unified hierarchy, else cgroup v1's pids controller. */
function cgroupRoot(): string {
  try {
    statSync('/sys/fs/cgroup/cgroup.controllers');
    return '/sys/fs/cgroup';
  } catch {
    return '/sys/fs/cgroup/pids';
  }
}
const IMDS = 'http://169.254.169.254';

interface Sample {
  seconds: number;
  made: number;
  rss_mib: number;
  state_bytes: number;
  state_names: number;
}

function rssMib(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : 0;
}

function run(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
    child.on('error', () => resolve(-1));
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

/** A 64-hex container id of its own for the i-th container. */
function containerId(i: number): string {
  return `50a6${i.toString(16).padStart(8, '0')}`.padEnd(64, 'f');
}

/**
 * One short-lived "container": a cgroup named as docker names its scopes, a
 * shell that moves itself in and execs curl in the testbed's network
 * namespace; the cgroup is removed once curl exits. Every fifth uses IMDSv1,
 * the others ask for a token.
 */
async function container(ns: string, parent: string, i: number): Promise<boolean> {
  const cgroup = join(parent, `docker-${containerId(i)}.scope`);
  mkdirSync(cgroup);
  const curl = i % 5 === 0 ? `curl -s -m 5 -o /dev/null ${IMDS}/latest/meta-data/instance-id` : `curl -s -m 5 -o /dev/null -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' ${IMDS}/latest/api/token`;
  try {
    return (await run(['nsenter', `--net=/run/netns/${ns}`, 'sh', '-c', `echo $$ > ${cgroup}/cgroup.procs && exec ${curl}`])) === 0;
  } finally {
    await removeCgroup(cgroup);
  }
}

/** One short-lived host program of a name never seen before (a copy of curl), calling IMDSv1. */
async function program(ns: string, binDir: string, i: number): Promise<boolean> {
  const exe = join(binDir, `tool-${i}`);
  copyFileSync('/usr/bin/curl', exe);
  try {
    return (await run(['nsenter', `--net=/run/netns/${ns}`, exe, '-s', '-m', '5', '-o', '/dev/null', `${IMDS}/latest/meta-data/ami-id`])) === 0;
  } finally {
    rmSync(exe, { force: true });
  }
}

/** Removes a cgroup once the kernel has let go of its last task (an exited task leaves it a moment later). */
async function removeCgroup(path: string): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      rmdirSync(path);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' && code !== 'ENOTEMPTY') throw error;
      if (attempt >= 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, containers: { type: 'string', default: '5000' }, json: { type: 'string' } } });
  const seconds = Number(values.minutes) * 60;
  const containers = Number(values.containers);
  const tb = await createTestbed({ prefix: `imdsoak${process.pid % 1000}`, block: 62, mock: { instanceId: 'i-0aaaaaaaaaaaaaaaa' } });
  const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-soak-'));
  const binDir = join(dir, 'bin');
  mkdirSync(binDir);
  const parent = join(cgroupRoot(), `imds-soak-${process.pid}`);
  mkdirSync(parent);
  const config = join(dir, 'config.json');
  const stateFile = join(dir, 'state', 'state.json');
  // EMF lines to a file: the metrics sink counts every process (its cardinality guard included) without an endpoint.
  writeFileSync(config, JSON.stringify({ stateDir: join(dir, 'state'), logs: { eventsFile: join(dir, 'events.jsonl'), logV2: 'summary' }, identity: { instanceId: 'i-0aaaaaaaaaaaaaaaa', region: 'us-east-1' }, metrics: { sink: 'emf', emfFile: join(dir, 'metrics.emf'), interval: '60s' } }));
  const samples: Sample[] = [];
  let made = 0;
  let ok = 0;
  let programs = 0;
  let daemon: DaemonProcess | null = null;
  try {
    daemon = await DaemonProcess.start(tb.nsName('host'), ['--config', config], { ...process.env });
    const pid = daemon.child.pid as number;
    const start = Date.now();
    const sample = (): void => {
      let stateBytes = 0;
      let stateNames = 0;
      try {
        stateBytes = statSync(stateFile).size;
        stateNames = Object.keys((JSON.parse(readFileSync(stateFile, 'utf8')) as { processes: object }).processes).length;
      } catch {
        /* not written yet, or being replaced */
      }
      samples.push({ seconds: Math.round((Date.now() - start) / 1000), made, rss_mib: rssMib(pid), state_bytes: stateBytes, state_names: stateNames });
    };
    sample();
    const timer = setInterval(sample, 15_000);
    // Paced to spread the containers over the run; two at a time so a slow spawn does not fall behind.
    const pace = (seconds * 1000) / containers;
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const i = next++;
        if (i >= containers) return;
        const due = start + i * pace;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        made += 1;
        if (await container(tb.nsName('host'), parent, i)) ok += 1;
        if (i % 10 === 0) {
          programs += 1;
          if (await program(tb.nsName('host'), binDir, i)) ok += 1;
        }
      }
    };
    await Promise.all([worker(), worker()]);
    // Let the last requests reach the state file (it is written every few seconds).
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    sample();
    clearInterval(timer);
    await daemon.stop('SIGTERM');
    daemon = null;
  } finally {
    if (daemon !== null) await daemon.stop('SIGKILL').catch(() => undefined);
    await tb.destroy();
    for (const entry of readdirSync(parent, { withFileTypes: true })) if (entry.isDirectory()) await removeCgroup(join(parent, entry.name));
    await removeCgroup(parent);
  }
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { processes: Record<string, { v1: number; v2_token: number; folded?: number }> };
  rmSync(dir, { recursive: true, force: true });
  const counted = Object.values(state.processes).reduce((n, p) => n + p.v1 + p.v2_token, 0);
  // Warm-up: the first quarter of the run (the tables fill up to their caps well before).
  const after = samples.filter((s) => s.seconds >= seconds / 4);
  const quarter = Math.max(1, Math.floor(after.length / 4));
  const early = after.slice(0, quarter);
  const late = after.slice(-quarter);
  const rssEarly = median(early.map((s) => s.rss_mib));
  const rssLate = median(late.map((s) => s.rss_mib));
  const stateSizes = after.map((s) => s.state_bytes);
  const result = {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
    minutes: Number(values.minutes),
    containers_made: made,
    distinct_programs_made: programs,
    calls_ok: ok,
    calls_counted_in_state_file: counted,
    state_file_names_at_end: Object.keys(state.processes).length,
    buckets_at_end: Object.fromEntries(Object.entries(state.processes).filter(([, p]) => p.folded !== undefined).map(([k, p]) => [k, p.folded])),
    rss_mib: { after_warmup_first_quarter_median: rssEarly, last_quarter_median: rssLate, max_after_warmup: Math.max(...after.map((s) => s.rss_mib)) },
    state_file_bytes: { min_after_warmup: Math.min(...stateSizes), max_after_warmup: Math.max(...stateSizes) },
    samples,
  };
  process.stdout.write(`${JSON.stringify({ ...result, samples: `${samples.length} (in --json)` }, null, 2)}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  const problems: string[] = [];
  if (rssLate > rssEarly * 1.15) problems.push(`RSS grew after warm-up: ${rssEarly} → ${rssLate} MiB`);
  if (result.state_file_bytes.max_after_warmup > result.state_file_bytes.min_after_warmup * 1.25) problems.push(`state file grew after warm-up: ${result.state_file_bytes.min_after_warmup} → ${result.state_file_bytes.max_after_warmup} bytes`);
  if (counted < ok) problems.push(`the state file counts ${counted} calls of ${ok} made`);
  for (const p of problems) process.stderr.write(`target missed: ${p}\n`);
  return problems.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak benchmark failed: ${(error as Error).stack}\n`);
    process.exit(1);
  },
);
