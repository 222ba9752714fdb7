// Long fuzz run, worker side: runs inputs [from, to) of one seed through the pipeline (test/fuzz), reports
// progress through shared memory for the main thread's watchdog, and snapshots of its tally by message.
// Started by benchmarks/fuzz.ts; not meant to be run on its own.

import { parentPort, workerData } from 'node:worker_threads';
import { loadFixtureSessions } from '../test/fuzz/corpus.js';
import { FuzzReport, runFuzzInput } from '../test/fuzz/fuzz-loop.js';
import { heapAfterGc } from '../test/fuzz/heap.js';

/** What the main thread passes in `workerData`. */
export interface FuzzWorkerData {
  seed: number;
  from: number;
  to: number;
  /** Indexes not to run (inputs that hung a previous worker). */
  skip: number[];
  /** Index at which to measure the "middle" heap figure. */
  middle: number;
  fixturesDir: string;
  differential: boolean;
  maxInputMs: number;
  /** Int32Array view: [0] index being run, [1] inputs finished (both only grow). */
  progress: SharedArrayBuffer;
}

/** Messages to the main thread. `next` is the first index the snapshot does not cover. */
export type FuzzWorkerMessage =
  | { type: 'snapshot'; next: number; report: ReturnType<typeof snapshotOf> }
  | { type: 'heap'; at: 'start' | 'middle' | 'end'; bytes: number }
  | { type: 'done'; next: number; report: ReturnType<typeof snapshotOf> };

const SNAPSHOT_EVERY_MS = 1000;

function snapshotOf(report: FuzzReport): Pick<FuzzReport, 'inputs' | 'frames' | 'maxInputMs' | 'slowestInput' | 'failures'> {
  return { inputs: report.inputs, frames: report.frames, maxInputMs: report.maxInputMs, slowestInput: report.slowestInput, failures: report.failures };
}

async function main(data: FuzzWorkerData): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('fuzz-worker.js runs inside benchmarks/fuzz.js');
  const progress = new Int32Array(data.progress);
  const corpus = { fixtures: loadFixtureSessions(data.fixturesDir) };
  const skip = new Set(data.skip);
  const report = new FuzzReport(25);
  const post = (message: FuzzWorkerMessage): void => port.postMessage(message);
  if (data.from === 0) post({ type: 'heap', at: 'start', bytes: heapAfterGc() });
  let lastSnapshot = performance.now();
  for (let index = data.from; index < data.to; index++) {
    if (index === data.middle) post({ type: 'heap', at: 'middle', bytes: heapAfterGc() });
    Atomics.store(progress, 0, index);
    if (!skip.has(index)) report.add(await runFuzzInput(corpus, data.seed, index, { differential: data.differential, maxInputMs: data.maxInputMs }));
    Atomics.add(progress, 1, 1);
    if (performance.now() - lastSnapshot > SNAPSHOT_EVERY_MS) {
      post({ type: 'snapshot', next: index + 1, report: snapshotOf(report) });
      lastSnapshot = performance.now();
    }
  }
  post({ type: 'heap', at: 'end', bytes: heapAfterGc() });
  post({ type: 'done', next: data.to, report: snapshotOf(report) });
}

await main(workerData as FuzzWorkerData);
