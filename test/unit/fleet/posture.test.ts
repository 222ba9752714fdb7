import { describe, expect, it } from 'vitest';
import { accountDefaultPosture, instancePosture, launchPosture } from '../../../src/fleet/inventory/posture.js';
import type { InstanceMetadata } from '../../../src/fleet/model.js';

const meta = (httpTokens: 'optional' | 'required', endpoint: 'enabled' | 'disabled' = 'enabled'): InstanceMetadata => ({ httpTokens, hopLimit: 1, endpoint, ipv6: 'disabled', tags: 'disabled' });

describe('launchPosture: EC2 order of precedence', () => {
  it('the launch source\'s own HttpTokens wins over the account default and the AMI', () => {
    expect(launchPosture('optional', 'v2.0', { httpTokens: 'required' })).toEqual({ allowsV1: true, source: 'explicit' });
    expect(launchPosture('required', null, { httpTokens: 'optional' })).toEqual({ allowsV1: false, source: 'explicit' });
  });
  it('then the account default, over the AMI (an AMI with v2.0 under an "optional" default launches optional)', () => {
    expect(launchPosture(null, 'v2.0', { httpTokens: 'optional' })).toEqual({ allowsV1: true, source: 'account-default' });
    expect(launchPosture(null, null, { httpTokens: 'required' })).toEqual({ allowsV1: false, source: 'account-default' });
  });
  it("then the AMI's ImdsSupport, then EC2's default (optional)", () => {
    expect(launchPosture(null, 'v2.0', { httpTokens: null })).toEqual({ allowsV1: false, source: 'ami' });
    expect(launchPosture(null, null, undefined)).toEqual({ allowsV1: true, source: 'ec2-default' });
  });
});

describe('instancePosture', () => {
  it('IMDSv1 is allowed only while tokens are optional and the endpoint is on', () => {
    expect(instancePosture(meta('optional'), null, null, undefined).allowsV1).toBe(true);
    expect(instancePosture(meta('required'), null, null, undefined).allowsV1).toBe(false);
    expect(instancePosture(meta('optional', 'disabled'), null, null, undefined)).toEqual({ allowsV1: false, source: 'explicit' });
  });
  it('names the setting that explains it, and explicit when none does (changed after launch)', () => {
    expect(instancePosture(meta('optional'), 'optional', null, undefined).source).toBe('launch-template');
    expect(instancePosture(meta('required'), 'optional', null, undefined).source).toBe('explicit');
    expect(instancePosture(meta('required'), null, 'v2.0', undefined).source).toBe('ami');
    expect(instancePosture(meta('required'), null, null, { httpTokens: 'required' }).source).toBe('account-default');
    expect(instancePosture(meta('optional'), null, null, undefined).source).toBe('ec2-default');
    expect(instancePosture(meta('required'), null, null, undefined).source).toBe('explicit');
  });
});

describe('accountDefaultPosture', () => {
  it('no preference allows IMDSv1 (EC2 default); enforcement refuses it whatever HttpTokens says', () => {
    expect(accountDefaultPosture(null, false)).toEqual({ allowsV1: true, source: 'ec2-default' });
    expect(accountDefaultPosture('required', false)).toEqual({ allowsV1: false, source: 'account-default' });
    expect(accountDefaultPosture(null, true)).toEqual({ allowsV1: false, source: 'account-default' });
  });
});
