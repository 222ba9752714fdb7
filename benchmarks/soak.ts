// Soak benchmark: the daemon under a churn of distinct short-lived containers and programs calling IMDS.
// Its RSS and state-file size must stay flat after warm-up (the per-process tables are bounded).
// Usage (root, after `npm run build`): node dist/benchmarks/soak.js [--minutes 32] [--containers 5000] [--sample-seconds 15] [--json FILE]
// Flatness is judged on runs of 10 minutes or more; a shorter run (CI's) checks the counts and the bounds only.

import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { IMDS_IPV4 } from '../src/imds-endpoint.js';
import { DEFAULT_STATE_BOUNDS } from '../src/sinks/state-file.js';
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
const IMDS = `http://${IMDS_IPV4}`;

interface Sample {
  seconds: number;
  made: number;
  rss_mib: number;
  /** The daemon's own figures from its last interval summary line (null before the first). */
  heap_used_mib: number | null;
  external_mib: number | null;
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
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '32' }, containers: { type: 'string', default: '5000' }, 'sample-seconds': { type: 'string', default: '15' }, json: { type: 'string' } } });
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
  writeFileSync(config, JSON.stringify({ stateDir: join(dir, 'state'), logs: { eventsFile: join(dir, 'events.jsonl'), logV2: 'summary', summaryInterval: '30s' }, identity: { instanceId: 'i-0aaaaaaaaaaaaaaaa', region: 'us-east-1' }, metrics: { sink: 'emf', emfFile: join(dir, 'metrics.emf'), interval: '60s' } }));
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
      const footprint = [...(daemon?.lines ?? [])].reverse().find((l) => l.msg === 'interval summary') as { agent?: { heap_used_mib: number; external_mib: number } } | undefined;
      samples.push({ seconds: Math.round((Date.now() - start) / 1000), made, rss_mib: rssMib(pid), heap_used_mib: footprint?.agent?.heap_used_mib ?? null, external_mib: footprint?.agent?.external_mib ?? null, state_bytes: stateBytes, state_names: stateNames });
    };
    sample();
    const timer = setInterval(sample, Number(values['sample-seconds']) * 1000);
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
  // Warm-up: until the state file first holds 90% of its cap (from then on it folds); then thirds are compared.
  const full = samples.findIndex((s) => s.state_names >= DEFAULT_STATE_BOUNDS.maxProcesses * 0.9);
  const after = full < 0 ? [] : samples.slice(full);
  const third = Math.max(1, Math.floor(after.length / 3));
  const figures = (pick: (s: Sample) => number | null): { first_third_median: number; last_third_median: number; max: number } | null => {
    const values = after.map(pick).filter((v): v is number => v !== null);
    if (values.length < 3) return null;
    return { first_third_median: median(values.slice(0, third)), last_third_median: median(values.slice(-third)), max: Math.max(...values) };
  };
  const stateSizes = after.map((s) => s.state_bytes);
  const result = {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
    minutes: Number(values.minutes),
    containers_made: made,
    distinct_programs_made: programs,
    calls_ok: ok,
    calls_counted_in_state_file: counted,
    warm_up_seconds: full < 0 ? null : samples[full]?.seconds ?? null,
    state_file_names_at_end: Object.keys(state.processes).length,
    buckets_at_end: Object.fromEntries(Object.entries(state.processes).filter(([, p]) => p.folded !== undefined).map(([k, p]) => [k, p.folded])),
    rss_mib_after_warm_up: figures((s) => s.rss_mib),
    heap_used_mib_after_warm_up: figures((s) => s.heap_used_mib),
    external_mib_after_warm_up: figures((s) => s.external_mib),
    state_file_bytes_after_warm_up: stateSizes.length === 0 ? null : { min: Math.min(...stateSizes), max: Math.max(...stateSizes) },
    samples,
  };
  process.stdout.write(`${JSON.stringify({ ...result, samples: `${samples.length} (in --json)` }, null, 2)}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  const problems: string[] = [];
  if (counted < ok) problems.push(`the state file counts ${counted} calls of ${ok} made`);
  if (result.state_file_names_at_end > DEFAULT_STATE_BOUNDS.maxProcesses) problems.push(`the state file holds ${result.state_file_names_at_end} names, over its cap`);
  if (made + programs > DEFAULT_STATE_BOUNDS.maxProcesses && Object.keys(result.buckets_at_end).length === 0) problems.push('more names than the cap, yet nothing was folded');
  if (Number(values.minutes) >= 10) {
    const rss = result.rss_mib_after_warm_up;
    const sizes = result.state_file_bytes_after_warm_up;
    if (rss === null || sizes === null) problems.push('the state file never filled up: no warm-up to judge from');
    if (rss !== null && rss.last_third_median > rss.first_third_median * 1.15) problems.push(`RSS grew after warm-up: ${rss.first_third_median} → ${rss.last_third_median} MiB`);
    if (sizes !== null && sizes.max > sizes.min * 1.25) problems.push(`the state file grew after warm-up: ${sizes.min} → ${sizes.max} bytes`);
  }
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
