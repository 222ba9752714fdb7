import { describe, expect, it } from 'vitest';
import { mapLimit, throttleSafe } from '../../../src/fleet/aws/throttle-safe.js';

const sdkError = (name: string, status: number): Error => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status, attempts: 8 } });

describe('throttleSafe', () => {
  it('asks again after throttling and 5xx answers, with growing jittered waits, until it passes', async () => {
    const waits: number[] = [];
    let calls = 0;
    const answer = await throttleSafe(async () => {
      calls += 1;
      if (calls === 1) throw sdkError('ThrottlingException', 400);
      if (calls === 2) throw sdkError('RequestLimitExceeded', 503);
      if (calls === 3) throw sdkError('InternalError', 500);
      return 'ok';
    }, { random: () => 0.999, sleep: async (ms) => void waits.push(ms) });
    expect(answer).toBe('ok');
    expect(waits).toEqual([999, 1998, 3996]);
  });
  it('does not retry an answer about the request (not authorized, bad parameter)', async () => {
    let calls = 0;
    await expect(throttleSafe(async () => {
      calls += 1;
      throw sdkError('UnauthorizedOperation', 403);
    }, { sleep: async () => {} })).rejects.toThrow('UnauthorizedOperation');
    expect(calls).toBe(1);
  });
  it('gives up after its rounds', async () => {
    let calls = 0;
    await expect(throttleSafe(async () => {
      calls += 1;
      throw sdkError('Throttling', 400);
    }, { rounds: 2, sleep: async () => {} })).rejects.toThrow('Throttling');
    expect(calls).toBe(3);
  });
});

describe('mapLimit', () => {
  it('never runs more than the limit at once, and keeps the input order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });
});
