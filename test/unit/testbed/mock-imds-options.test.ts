// Mock IMDS option validation: the followEc2 option (EC2 emulator to follow) and its defaults.

import { describe, expect, it } from 'vitest';
import { TestbedError } from '../../../src/errors.js';
import { DEFAULT_MOCK_IMDS_OPTIONS, mergeMockImdsOptions, resolveMockImdsOptions, validateMockImdsPatch } from '../../../src/testbed/mock-imds-options.js';

describe('followEc2 option', () => {
  it('defaults to null (the mock follows nothing)', () => {
    expect(DEFAULT_MOCK_IMDS_OPTIONS.followEc2).toBeNull();
    expect(resolveMockImdsOptions().followEc2).toBeNull();
  });

  it.each([
    [null],
    [{ endpoint: 'http://10.41.0.2:5000', intervalMs: 100 }],
    [{ endpoint: 'https://ec2.us-east-1.amazonaws.com', intervalMs: 10 }],
    [{ endpoint: 'http://[fd00:41::2]:5000/', intervalMs: 600_000 }],
  ])('accepts %o', (followEc2) => {
    expect(validateMockImdsPatch({ followEc2 })).toEqual({ followEc2 });
  });

  it.each([
    ['a string', 'http://10.41.0.2:5000', /followEc2 must be null or \{ endpoint, intervalMs \}/],
    ['an array', [], /followEc2 must be null or/],
    ['no endpoint', { intervalMs: 100 }, /followEc2\.endpoint must be an http:\/\/ or https:\/\/ URL/],
    ['a relative endpoint', { endpoint: '10.41.0.2:5000', intervalMs: 100 }, /followEc2\.endpoint must be/],
    ['a non-http endpoint', { endpoint: 'ftp://10.41.0.2/', intervalMs: 100 }, /followEc2\.endpoint must be/],
    ['an empty endpoint', { endpoint: '', intervalMs: 100 }, /followEc2\.endpoint must be/],
    ['no interval', { endpoint: 'http://10.41.0.2:5000' }, /followEc2\.intervalMs must be an integer 10\.\.600000/],
    ['a too short interval', { endpoint: 'http://10.41.0.2:5000', intervalMs: 9 }, /followEc2\.intervalMs must be/],
    ['a too long interval', { endpoint: 'http://10.41.0.2:5000', intervalMs: 600_001 }, /followEc2\.intervalMs must be/],
    ['a fractional interval', { endpoint: 'http://10.41.0.2:5000', intervalMs: 100.5 }, /followEc2\.intervalMs must be/],
    ['a string interval', { endpoint: 'http://10.41.0.2:5000', intervalMs: '100' }, /followEc2\.intervalMs must be/],
    ['an unknown field', { endpoint: 'http://10.41.0.2:5000', intervalMs: 100, region: 'eu-west-1' }, /unknown mock IMDS option followEc2\.region/],
  ])('rejects %s with TestbedError', (_name, followEc2, message) => {
    expect(() => validateMockImdsPatch({ followEc2 })).toThrow(TestbedError);
    expect(() => validateMockImdsPatch({ followEc2 })).toThrow(message);
  });

  it('merges into a copy, so changing the result leaves the base alone', () => {
    const base = resolveMockImdsOptions({ followEc2: { endpoint: 'http://10.41.0.2:5000', intervalMs: 100 } });
    const merged = mergeMockImdsOptions(base, {});
    merged.followEc2!.intervalMs = 5;
    expect(base.followEc2).toEqual({ endpoint: 'http://10.41.0.2:5000', intervalMs: 100 });
    expect(mergeMockImdsOptions(base, { followEc2: null }).followEc2).toBeNull();
  });
});
