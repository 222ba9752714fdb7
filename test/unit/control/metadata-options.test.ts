import { describe, expect, it } from 'vitest';
import { describeChange, EC2_DEFAULT_OPTIONS, enforcedOptions, hopLimitDecision, sameOptions } from '../../../src/control/metadata-options.js';

const base = EC2_DEFAULT_OPTIONS;

describe('enforcedOptions', () => {
  it.each([
    ['plain', {}, { httpTokens: 'required', httpEndpoint: 'enabled', hopLimit: 1 }],
    ['container hop failures raise 1 → 2', { containerHopFailures: true }, { httpTokens: 'required', hopLimit: 2 }],
    ['explicit --hop-limit wins', { containerHopFailures: true, hopLimit: 3 }, { hopLimit: 3 }],
    ['--disable-endpoint', { disableEndpoint: true }, { httpTokens: 'required', httpEndpoint: 'disabled' }],
  ])('%s', (_n, over, expected) => {
    const request = { disableEndpoint: false, hopLimit: null, containerHopFailures: false, ...over };
    expect(enforcedOptions(base, request)).toMatchObject(expected);
  });

  it('keeps the other fields as they are', () => {
    const current = { ...base, httpProtocolIpv6: 'enabled' as const, instanceMetadataTags: 'enabled' as const, hopLimit: 4 };
    expect(enforcedOptions(current, { disableEndpoint: false, hopLimit: null, containerHopFailures: true })).toEqual({ ...current, httpTokens: 'required' });
  });

  it('never turns a disabled endpoint back on', () => {
    const off = { ...base, httpEndpoint: 'disabled' as const };
    expect(enforcedOptions(off, { disableEndpoint: false, hopLimit: null, containerHopFailures: false })).toMatchObject({ httpTokens: 'required', httpEndpoint: 'disabled' });
  });
});

describe('hopLimitDecision', () => {
  it('says why it raised the hop limit, and nothing when it did not', () => {
    expect(hopLimitDecision(base, { disableEndpoint: false, hopLimit: null, containerHopFailures: true }).reason).toMatch(/raised to 2: container token requests were lost at hop limit 1/);
    expect(hopLimitDecision({ ...base, hopLimit: 2 }, { disableEndpoint: false, hopLimit: null, containerHopFailures: true })).toEqual({ hopLimit: 2, reason: null });
  });
});

describe('describeChange / sameOptions', () => {
  it('lists only what differs', () => {
    expect(describeChange(base, { ...base, httpTokens: 'required', hopLimit: 2 })).toBe('HttpTokens optional→required, HopLimit 1→2');
    expect(describeChange(base, base)).toBe('no change');
    expect(sameOptions(base, { ...base })).toBe(true);
  });
});
