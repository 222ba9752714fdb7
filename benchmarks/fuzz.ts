// Long fuzz run of the capture → decode → tcp → http → sinks path (harness in test/fuzz/), in a worker
// thread watched by this thread: an input that makes no progress for 10 s is reported as a hang.
// Usage (after `npm run build`): node dist/benchmarks/fuzz.js [--inputs 1000000] [--seed 1] [--json FILE]
//   replay one input: node dist/benchmarks/fuzz.js --seed S --start I --inputs 1 --show
// Exits 1 when any check failed.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { maskSecrets } from '../test/fuzz/canaries.js';
import { CHECK_NAMES, type CheckName } from '../test/fuzz/checks.js';
import { loadFixtureSessions } from '../test/fuzz/corpus.js';
import { feedSession } from '../test/fuzz/feed.js';
import { describeInput, makeInput } from '../test/fuzz/fuzz-input.js';
import { FuzzReport } from '../test/fuzz/fuzz-loop.js';
import { HostileOwnerFinder } from '../test/fuzz/hostile-owner.js';
import { collectOutputs } from '../test/fuzz/outputs.js';
import type { FuzzWorkerData, FuzzWorkerMessage } from './fuzz-worker.js';

const HANG_AFTER_MS = 10_000;
const WATCH_EVERY_MS = 500;
const PROGRESS_EVERY_MS = 15_000;
/** Per-input time past which an input counts as hung even though it finished. */
const MAX_INPUT_MS = HANG_AFTER_MS;

interface HeapFigures {
  start: number | null;
  middle: number | null;
  end: number | null;
}

interface RunFigures {
  seed: number;
  start: number;
  inputs: number;
  seconds: number;
  inputs_per_second: number;
  frames: number;
  max_input_ms: number;
  slowest_input: string | null;
  heap_after_gc_mib: HeapFigures;
  differential: boolean;
  failures: Record<CheckName, { count: number; examples: FuzzReport['failures'][CheckName]['examples'] }>;
}

const mib = (bytes: number | null): number | null => (bytes === null ? null : Math.round(bytes / 104_857.6) / 10);

/** Runs [start, end) in workers, restarting after a hang with the hung input skipped. */
async function runInWorkers(options: { seed: number; start: number; end: number; fixturesDir: string; differential: boolean }): Promise<{ report: FuzzReport; heap: HeapFigures }> {
  const total = new FuzzReport(25);
  const heap: HeapFigures = { start: null, middle: null, end: null };
  const skip: number[] = [];
  const middle = options.start + Math.floor((options.end - options.start) / 2);
  let from = options.start;
  const t0 = performance.now();
  let lastProgress = t0;
  while (from < options.end) {
    const progress = new SharedArrayBuffer(8);
    const counters = new Int32Array(progress);
    Atomics.store(counters, 0, from);
    const data: FuzzWorkerData = { seed: options.seed, from, to: options.end, skip, middle, fixturesDir: options.fixturesDir, differential: options.differential, maxInputMs: MAX_INPUT_MS, progress };
    const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), { workerData: data });
    let snapshot: Extract<FuzzWorkerMessage, { type: 'snapshot' | 'done' }> | null = null;
    let finished = false;
    const outcome = await new Promise<{ hungAt: number | null; error: Error | null }>((resolve) => {
      let seen = 0;
      let seenAt = performance.now();
      let hungAt: number | null = null;
      const watchdog = setInterval(() => {
        const done = Atomics.load(counters, 1);
        const now = performance.now();
        if (done !== seen) {
          seen = done;
          seenAt = now;
        } else if (now - seenAt > HANG_AFTER_MS) {
          clearInterval(watchdog);
          hungAt = Atomics.load(counters, 0);
          void worker.terminate(); // 'exit' follows
          return;
        }
        if (now - lastProgress > PROGRESS_EVERY_MS) {
          lastProgress = now;
          const inputs = total.inputs + (snapshot?.report.inputs ?? 0);
          process.stderr.write(`fuzz: ~${inputs} inputs, ${Math.round(inputs / ((now - t0) / 1000))}/s\n`);
        }
      }, WATCH_EVERY_MS);
      worker.on('message', (message: FuzzWorkerMessage) => {
        if (message.type === 'heap') heap[message.at] = message.bytes;
        else snapshot = message;
        if (message.type === 'done') finished = true;
      });
      worker.on('error', (error) => {
        clearInterval(watchdog);
        resolve({ hungAt: null, error });
      });
      worker.on('exit', () => {
        clearInterval(watchdog);
        resolve({ hungAt, error: finished || hungAt !== null ? null : new Error('fuzz worker exited before finishing') });
      });
    });
    const last = snapshot as Extract<FuzzWorkerMessage, { type: 'snapshot' | 'done' }> | null;
    if (last) total.merge(last.report);
    if (outcome.hungAt !== null) {
      const input = makeInput({ fixtures: loadFixtureSessions(options.fixturesDir) }, options.seed, outcome.hungAt);
      total.addFailure(input, { check: 'hang', detail: `no progress for ${HANG_AFTER_MS / 1000} s (worker stopped)` });
      total.inputs += 1;
      skip.push(outcome.hungAt);
      // Inputs after the last snapshot are run again by the next worker: the same (seed, index) gives the same input.
      from = last?.next ?? from;
      continue;
    }
    if (outcome.error) throw outcome.error;
    from = options.end;
  }
  return { report: total, heap };
}

/** Replays inputs in this thread and prints their outputs (secrets masked): for reproducing a reported failure. */
async function show(fixturesDir: string, seed: number, start: number, count: number): Promise<void> {
  const corpus = { fixtures: loadFixtureSessions(fixturesDir) };
  for (let index = start; index < start + count; index++) {
    const input = makeInput(corpus, seed, index);
    const result = await feedSession(input.session, 'reused', { finder: input.attributed ? new HostileOwnerFinder() : null });
    console.log(
      `# ${describeInput(input)} ${input.session.name} [${input.mutations.join(',') || 'no mutation'}${input.attributed ? '; hostile processes' : ''}] frames=${result.frames} error=${result.error ?? 'none'}`,
    );
    if (!result.stats) continue;
    const outputs = collectOutputs(result.events, result.stats, result);
    for (const line of [...outputs.jsonLines, ...outputs.tableLines, ...outputs.summaryLines]) console.log(JSON.stringify(maskSecrets(line)));
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      inputs: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      start: { type: 'string', default: '0' },
      json: { type: 'string' },
      fixtures: { type: 'string', default: fileURLToPath(new URL('../../fixtures/pcap/', import.meta.url)) },
      'no-differential': { type: 'boolean', default: false },
      show: { type: 'boolean', default: false },
    },
  });
  const inputs = Number(values.inputs);
  const seed = Number(values.seed);
  const start = Number(values.start);
  if (!Number.isInteger(inputs) || inputs < 1 || !Number.isInteger(seed) || !Number.isInteger(start) || start < 0) {
    process.stderr.write('fuzz: --inputs, --seed and --start take whole numbers (inputs ≥ 1, start ≥ 0)\n');
    return 2;
  }
  if (values.show) {
    await show(values.fixtures, seed, start, Math.min(inputs, 20));
    return 0;
  }
  const differential = !values['no-differential'];
  const t0 = performance.now();
  const { report, heap } = await runInWorkers({ seed, start, end: start + inputs, fixturesDir: values.fixtures, differential });
  const seconds = (performance.now() - t0) / 1000;
  const figures: RunFigures = {
    seed,
    start,
    inputs: report.inputs,
    seconds: Math.round(seconds * 10) / 10,
    inputs_per_second: Math.round(report.inputs / seconds),
    frames: report.frames,
    max_input_ms: Math.round(report.maxInputMs * 10) / 10,
    slowest_input: report.slowestInput,
    heap_after_gc_mib: { start: mib(heap.start), middle: mib(heap.middle), end: mib(heap.end) },
    differential,
    failures: Object.fromEntries(CHECK_NAMES.map((c) => [c, report.failures[c]])) as RunFigures['failures'],
  };
  console.log(`fuzz: seed ${seed}, inputs ${start}…${start + inputs - 1}${differential ? ', each also through fresh copies (differential)' : ''}`);
  console.log(`inputs:          ${figures.inputs} in ${figures.seconds} s = ${figures.inputs_per_second} inputs/s`);
  console.log(`frames:          ${figures.frames}`);
  console.log(`exceptions:      ${report.failures.exception.count}`);
  console.log(`hangs:           ${report.failures.hang.count} (no progress for ${HANG_AFTER_MS / 1000} s, or an input over ${MAX_INPUT_MS / 1000} s)`);
  console.log(`max per input:   ${figures.max_input_ms} ms (${figures.slowest_input ?? '-'})`);
  console.log(`heap after GC:   start ${figures.heap_after_gc_mib.start} MiB, middle ${figures.heap_after_gc_mib.middle} MiB, end ${figures.heap_after_gc_mib.end} MiB`);
  console.log('check failures (inputs failing each check; first few to replay with --seed S --start I --inputs 1 --show):');
  for (const check of CHECK_NAMES) console.log(report.describe(check).replace(/^/gm, '  '));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(figures, null, 2)}\n`);
  return CHECK_NAMES.some((c) => report.failures[c].count > 0) ? 1 : 0;
}

process.exitCode = await main();
