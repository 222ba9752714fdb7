// Unit tests: PutMetricData error classification and backoff with full jitter.
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, classifyPutError } from '../../../../src/sinks/metrics/retry-policy.js';

function sdkError(name: string, status: number | undefined, extra: object = {}): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });
}

describe('classifyPutError', () => {
  it.each<[string, unknown, string, string]>([
    ['query-compatible Throttling', sdkError('ThrottlingException', 400, { Code: 'Throttling' }), 'retry', 'Throttling'],
    ['ThrottlingException', sdkError('ThrottlingException', 400), 'retry', 'ThrottlingException'],
    ['429 whatever its name', sdkError('TooManyRequests', 429), 'retry', 'TooManyRequests'],
    ['503', sdkError('ServiceUnavailable', 503), 'retry', 'ServiceUnavailable'],
    ['500 without a parsable body', sdkError('SyntaxError', 500), 'retry', 'SyntaxError'],
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', $metadata: {} }), 'retry', 'ECONNREFUSED'],
    ['socket reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'retry', 'ECONNRESET'],
    ['request timeout', sdkError('TimeoutError', undefined), 'retry', 'TimeoutError'],
    ['invalid parameter (query code)', sdkError('InvalidParameterValueException', 400, { Code: 'InvalidParameterValue' }), 'drop', 'InvalidParameterValue'],
    ['missing parameter', sdkError('MissingRequiredParameterException', 400, { Code: 'MissingParameter' }), 'drop', 'MissingParameter'],
    ['413 entity too large', sdkError('Unknown', 413), 'drop', 'Unknown'],
    ['access denied', sdkError('AccessDenied', 403), 'keep', 'AccessDenied'],
    ['expired credentials', sdkError('ExpiredTokenException', 400, { Code: 'ExpiredToken' }), 'keep', 'ExpiredToken'],
    ['no credentials at all', Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }), 'keep', 'CredentialsProviderError'],
    ['aborted at shutdown', Object.assign(new Error('aborted'), { name: 'AbortError' }), 'keep', 'AbortError'],
    ['not even an error', 'boom', 'keep', 'unknown'],
  ])('%s', (_label, error, action, code) => {
    expect(classifyPutError(error)).toMatchObject({ action, code });
  });
});

describe('backoffDelayMs', () => {
  it.each([
    [0, 0.999, 199], [1, 0.999, 399], [3, 0.5, 800], [10, 0.999, 19_980], [10, 0, 0],
  ])('retry %i with random %f → %i ms (base 200, cap 20 s, full jitter)', (retry, random, ms) => {
    expect(backoffDelayMs(retry, 200, 20_000, () => random)).toBe(ms);
  });
});

describe('FlushBackoff', () => {
  it('waits 5 s after a flush that left batches, doubling up to the cap, and at once after one that sent all', async () => {
    const { FlushBackoff } = await import('../../../../src/sinks/metrics/retry-policy.js');
    const b = new FlushBackoff(60_000);
    expect(b.due(0)).toBe(true);
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i += 1) {
      b.after(false, now);
      let next = now;
      while (!b.due(next)) next += 1000;
      waits.push(next - now);
      now = next;
    }
    expect(waits).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000]);
    b.after(true, now);
    expect(b.due(now)).toBe(true);
    b.after(false, now);
    b.reset();
    expect(b.due(now)).toBe(true);
  });
});
