// The shared poll helper of the tests: what counts as "not yet", the timeout message, and a check that throws.

import { describe, expect, it } from 'vitest';
import { waitUntil, WaitTimeoutError } from '../../helpers/wait-until.js';

describe('waitUntil', () => {
  it.each<[string, unknown[], unknown]>([
    ['true at once', [true], true],
    ['a value after undefined and false', [undefined, false, 'ready'], 'ready'],
    ['null and 0 as values', [null], null],
    ['0 as a value', [0], 0],
  ])('%s', async (_name, answers, expected) => {
    let i = 0;
    await expect(waitUntil(() => answers[Math.min(i++, answers.length - 1)], 1_000, 'the answer', { intervalMs: 1 })).resolves.toBe(expected);
  });

  it('awaits an async check', async () => {
    let calls = 0;
    await expect(waitUntil(async () => (++calls >= 3 ? calls : undefined), 1_000, 'three calls', { intervalMs: 1 })).resolves.toBe(3);
  });

  it('rejects with what it waited for, and the detail, once the time is up', async () => {
    const waited = waitUntil(() => false, 30, 'the moon', { detail: () => 'still the sun' });
    await expect(waited).rejects.toThrow(WaitTimeoutError);
    await expect(waited).rejects.toThrow('timed out after 30 ms waiting for the moon: still the sun');
  });

  it('rejects at once with the error a check throws', async () => {
    let calls = 0;
    const check = (): never => {
      calls++;
      throw new Error('broken check');
    };
    await expect(waitUntil(check, 10_000, 'anything')).rejects.toThrow('broken check');
    expect(calls).toBe(1);
  });
});
