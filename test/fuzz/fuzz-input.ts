// Fuzz harness: builds fuzz input number `index` of the run seeded `seed` — a corpus session, maybe
// mutated — from those two numbers alone, so any failure can be rebuilt and replayed.

import { syntheticSession } from './corpus.js';
import type { FuzzSession } from './fuzz-session.js';
import { mutateSession } from './mutators.js';
import { Prng } from './prng.js';

/** One input and how it was made. */
export interface FuzzInput {
  seed: number;
  /** Negative: recorded capture number -1-index, as recorded. */
  index: number;
  /** Whether the mutators ran (false: the unmutated corpus entry). */
  mutated: boolean;
  session: FuzzSession;
  /** The mutators applied, in order. */
  mutations: string[];
  /** Connections are attributed to hostile processes (test/fuzz/hostile-owner.ts), as live capture does; else none, as `--read`. */
  attributed: boolean;
}

/** The recorded captures; synthetic sessions are generated per input. */
export interface FuzzCorpus {
  fixtures: readonly FuzzSession[];
}

/** Share of inputs based on a recorded capture rather than a synthetic session. */
const FIXTURE_SHARE = 0.25;
/** Share of inputs whose connections are attributed to hostile processes. */
const ATTRIBUTED_SHARE = 0.3;

/**
 * Input `index` of run `seed`. A negative index is recorded capture -1-index,
 * never mutated. With `mutate` false it is the unmutated corpus entry the same
 * (seed, index) starts from: the differential test runs both.
 */
export function makeInput(corpus: FuzzCorpus, seed: number, index: number, mutate = true): FuzzInput {
  if (index < 0) {
    const session = corpus.fixtures[-1 - index];
    if (!session) throw new Error(`no recorded capture number ${-1 - index}`);
    return { seed, index, mutated: false, session, mutations: [], attributed: false };
  }
  const rng = Prng.forInput(seed, index);
  const attributed = rng.chance(ATTRIBUTED_SHARE);
  const base = corpus.fixtures.length > 0 && rng.chance(FIXTURE_SHARE) ? rng.pick(corpus.fixtures) : syntheticSession(rng);
  if (!mutate) return { seed, index, mutated: false, session: base, mutations: [], attributed };
  const count = rng.chance(0.1) ? 0 : rng.pick([1, 1, 2, 2, 3, 4, 6]);
  const { session, applied } = mutateSession(base, rng, count);
  return { seed, index, mutated: true, session, mutations: applied, attributed };
}

/** The unmutated corpus of run `seed`: every recorded capture, then the base sessions of inputs 0…count-1. */
export function corpusInputs(corpus: FuzzCorpus, seed: number, count: number): FuzzInput[] {
  const fixtures = corpus.fixtures.map((_, i) => makeInput(corpus, seed, -1 - i));
  return [...fixtures, ...Array.from({ length: count }, (_, index) => makeInput(corpus, seed, index, false))];
}

/** How to rebuild an input, for failure reports: `seed=1 index=42` (+ `unmutated`). */
export function describeInput(input: Pick<FuzzInput, 'seed' | 'index' | 'mutated'>): string {
  return `seed=${input.seed} index=${input.index}${input.mutated || input.index < 0 ? '' : ' unmutated'}`;
}
