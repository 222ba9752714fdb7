// Fuzz harness: runs inputs through the pipeline, checks them, and tallies failures per check with the
// (seed, index) of the first few, so each can be replayed. Shared by test/fuzz and benchmarks/fuzz.ts.

import { CHECK_NAMES, checkOutputs, checkRun, compareOutputs, type CheckFailure, type CheckName } from './checks.js';
import { feedSession, type FeedResult } from './feed.js';
import { HostileOwnerFinder } from './hostile-owner.js';
import { describeInput, makeInput, type FuzzCorpus, type FuzzInput } from './fuzz-input.js';
import { collectOutputs, type FuzzOutputs } from './outputs.js';

/** How each input is run. */
export interface FuzzOptions {
  /** Also run the input through fresh copies and require the same output. */
  differential: boolean;
  /** An input taking longer than this counts as a hang. */
  maxInputMs: number;
}

/** What one input did. */
export interface InputOutcome {
  input: FuzzInput;
  frames: number;
  elapsedMs: number;
  failures: CheckFailure[];
}

/** Enough to replay a failure and see it. */
export interface Reproducer {
  seed: number;
  index: number;
  mutated: boolean;
  /** `seed=… index=…` as the benchmark's flags take it. */
  input: string;
  session: string;
  mutations: string[];
  attributed: boolean;
  detail: string;
}

/** Inputs that failed one check, and the first few of them. */
export interface CheckTally {
  count: number;
  examples: Reproducer[];
}

function outputsOf(result: FeedResult): FuzzOutputs | CheckFailure {
  if (result.stats === null) return { check: 'exception', detail: result.error ?? 'no pipeline' };
  try {
    return collectOutputs(result.events, result.stats, result);
  } catch (error) {
    return { check: 'exception', detail: `while rendering output: ${(error as Error).message}` };
  }
}

/** Runs one input (live path, and the reference path when differential) and applies every check. */
export async function runInput(input: FuzzInput, options: FuzzOptions): Promise<InputOutcome> {
  const finder = input.attributed ? new HostileOwnerFinder() : null;
  const reused = await feedSession(input.session, 'reused', { finder });
  const failures = checkRun(reused, options.maxInputMs);
  const outputs = outputsOf(reused);
  if ('check' in outputs) failures.push(outputs);
  else failures.push(...checkOutputs(outputs));
  if (options.differential && !('check' in outputs)) {
    const fresh = await feedSession(input.session, 'fresh', { finder });
    const freshOutputs = outputsOf(fresh);
    if ('check' in freshOutputs) failures.push({ check: 'differential', detail: `fresh copies failed where the reused buffer did not: ${freshOutputs.detail}` });
    else {
      const difference = compareOutputs(outputs, freshOutputs);
      if (difference) failures.push(difference);
    }
  }
  return { input, frames: reused.frames, elapsedMs: reused.elapsedMs, failures };
}

/** Builds input (seed, index) and runs it. */
export function runFuzzInput(corpus: FuzzCorpus, seed: number, index: number, options: FuzzOptions): Promise<InputOutcome> {
  return runInput(makeInput(corpus, seed, index), options);
}

/** Running totals of a fuzz run. */
export class FuzzReport {
  inputs = 0;
  frames = 0;
  maxInputMs = 0;
  slowestInput: string | null = null;
  readonly failures: Record<CheckName, CheckTally>;

  constructor(private readonly examplesPerCheck = 3) {
    this.failures = Object.fromEntries(CHECK_NAMES.map((c) => [c, { count: 0, examples: [] }])) as unknown as Record<CheckName, CheckTally>;
  }

  add(outcome: InputOutcome): void {
    this.inputs += 1;
    this.frames += outcome.frames;
    if (outcome.elapsedMs > this.maxInputMs) {
      this.maxInputMs = outcome.elapsedMs;
      this.slowestInput = describeInput(outcome.input);
    }
    for (const failure of outcome.failures) this.addFailure(outcome.input, failure);
  }

  /** Counts a failure found outside `runInput` (the benchmark's watchdog reports hangs this way). */
  addFailure(input: Pick<FuzzInput, 'seed' | 'index' | 'mutated'> & Partial<FuzzInput>, failure: CheckFailure): void {
    const tally = this.failures[failure.check];
    tally.count += 1;
    if (tally.examples.length < this.examplesPerCheck) {
      tally.examples.push({
        seed: input.seed,
        index: input.index,
        mutated: input.mutated,
        input: describeInput(input),
        session: input.session?.name ?? '?',
        mutations: input.mutations ?? [],
        attributed: input.attributed ?? false,
        detail: failure.detail,
      });
    }
  }

  /** Merges another report's totals (the benchmark restarts its worker after a hang). */
  merge(other: Pick<FuzzReport, 'inputs' | 'frames' | 'maxInputMs' | 'slowestInput' | 'failures'>): void {
    this.inputs += other.inputs;
    this.frames += other.frames;
    if (other.maxInputMs > this.maxInputMs) {
      this.maxInputMs = other.maxInputMs;
      this.slowestInput = other.slowestInput;
    }
    for (const check of CHECK_NAMES) {
      const mine = this.failures[check];
      mine.count += other.failures[check].count;
      for (const example of other.failures[check].examples) if (mine.examples.length < this.examplesPerCheck) mine.examples.push(example);
    }
  }

  /** The failures of one check as text, for an assertion message or the console. */
  describe(check: CheckName): string {
    const tally = this.failures[check];
    if (tally.count === 0) return `${check}: none in ${this.inputs} inputs`;
    const lines = tally.examples.map((e) => `  ${e.input} [${e.session}; ${e.mutations.join(',') || 'no mutation'}${e.attributed ? '; hostile processes' : ''}]: ${e.detail}`);
    return [`${check}: ${tally.count} of ${this.inputs} inputs, e.g.`, ...lines].join('\n');
  }
}
