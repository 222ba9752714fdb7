// The EC2 follower of the mock IMDS: MetadataOptions → mock options, and its poll loop on a fake clock and a fake EC2.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TestbedError } from '../../../src/errors.js';
import {
  changedOptions,
  followedOptions,
  MockImdsEc2Follower,
  type Ec2FollowTarget,
  type Ec2MetadataOptions,
  type Ec2MetadataOptionsReader,
} from '../../helpers/mock-imds-ec2-follower.js';
import { mergeMockImdsOptions, resolveMockImdsOptions, type MockImdsOptions, type MockImdsOptionsPatch } from '../../../src/testbed/mock-imds-options.js';

describe('followedOptions', () => {
  it.each<[string, Ec2MetadataOptions | undefined, object]>([
    ['all fields (DescribeInstances after RunInstances)', { State: 'applied', HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 2, InstanceMetadataTags: 'enabled' },
      { httpTokens: 'required', httpEndpoint: 'enabled', hopLimit: 2, instanceMetadataTags: 'enabled' }],
    ['only HttpTokens (moto after a Modify that gave only it)', { State: 'applied', HttpTokens: 'required' },
      { httpTokens: 'required', httpEndpoint: 'enabled', hopLimit: 1, instanceMetadataTags: 'disabled' }],
    ['only the hop limit', { State: 'applied', HttpPutResponseHopLimit: 3 }, { httpTokens: 'optional', httpEndpoint: 'enabled', hopLimit: 3, instanceMetadataTags: 'disabled' }],
    ['endpoint disabled', { HttpEndpoint: 'disabled' }, { httpTokens: 'optional', httpEndpoint: 'disabled', hopLimit: 1, instanceMetadataTags: 'disabled' }],
    ['no MetadataOptions at all', undefined, { httpTokens: 'optional', httpEndpoint: 'enabled', hopLimit: 1, instanceMetadataTags: 'disabled' }],
  ])('maps %s', (_name, metadata, expected) => {
    expect(followedOptions(metadata)).toEqual(expected);
  });

  it('returns null while State is pending (the instance still serves the old settings)', () => {
    expect(followedOptions({ State: 'pending', HttpTokens: 'required' })).toBeNull();
  });

  it.each<[string, Ec2MetadataOptions]>([
    ['hop limit 99 (moto accepts it, EC2 does not)', { HttpPutResponseHopLimit: 99 }],
    ['hop limit 0', { HttpPutResponseHopLimit: 0 }],
    ['an HttpTokens value EC2 does not have (not read as optional)', { HttpTokens: 'sometimes' }],
    ['an HttpEndpoint value EC2 does not have', { HttpEndpoint: 'off' }],
  ])('throws TestbedError for %s', (_name, metadata) => {
    expect(() => followedOptions(metadata)).toThrow(TestbedError);
  });

  it('changedOptions keeps only what differs', () => {
    const current = resolveMockImdsOptions({ hopLimit: 2 });
    expect(changedOptions({ httpTokens: 'required', httpEndpoint: 'enabled', hopLimit: 2, instanceMetadataTags: 'disabled' }, current)).toEqual({ httpTokens: 'required' });
    expect(changedOptions({ httpTokens: 'optional', httpEndpoint: 'enabled', hopLimit: 2, instanceMetadataTags: 'disabled' }, current)).toEqual({});
  });
});

/** A fake EC2: answers (or fails) from `next`, records every target asked for. */
class FakeReader implements Ec2MetadataOptionsReader {
  next: () => Ec2MetadataOptions | undefined = () => ({ State: 'applied' });
  readonly targets: Ec2FollowTarget[] = [];
  closed = 0;
  async read(target: Ec2FollowTarget): Promise<Ec2MetadataOptions | undefined> {
    this.targets.push(target);
    return this.next();
  }
  close(): void {
    this.closed += 1;
  }
}

describe('MockImdsEc2Follower', () => {
  const FOLLOW = { endpoint: 'http://10.41.0.2:5000', intervalMs: 100 };
  let options: MockImdsOptions;
  let reader: FakeReader;
  let applied: MockImdsOptionsPatch[];
  let logged: string[];
  let follower: MockImdsEc2Follower;

  /** Applies a patch the way the control server would, and tells the follower. */
  async function apply(patch: MockImdsOptionsPatch): Promise<MockImdsOptions> {
    applied.push(patch);
    options = mergeMockImdsOptions(options, patch);
    follower.configure(options);
    return options;
  }

  beforeEach(() => {
    vi.useFakeTimers();
    options = resolveMockImdsOptions({ instanceId: 'i-0follow', region: 'eu-west-1' });
    reader = new FakeReader();
    applied = [];
    logged = [];
    follower = new MockImdsEc2Follower({ options: () => options, apply, reader, log: (line) => logged.push(line) });
  });
  afterEach(async () => {
    await follower.stop();
    vi.useRealTimers();
  });

  it('does nothing until followEc2 is set, then polls at once and every intervalMs', async () => {
    follower.configure(options);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reader.targets).toEqual([]);
    await apply({ followEc2: FOLLOW });
    await vi.advanceTimersByTimeAsync(0);
    expect(reader.targets).toEqual([{ endpoint: FOLLOW.endpoint, region: 'eu-west-1', instanceId: 'i-0follow' }]);
    await vi.advanceTimersByTimeAsync(250);
    expect(reader.targets).toHaveLength(3);
  });

  it('applies only changed fields, and nothing when nothing changed', async () => {
    await apply({ followEc2: FOLLOW });
    await vi.advanceTimersByTimeAsync(0);
    expect(applied).toEqual([{ followEc2: FOLLOW }]);
    reader.next = () => ({ State: 'applied', HttpTokens: 'required', HttpPutResponseHopLimit: 2 });
    await vi.advanceTimersByTimeAsync(100);
    expect(applied.slice(1)).toEqual([{ httpTokens: 'required', hopLimit: 2 }]);
    await vi.advanceTimersByTimeAsync(300);
    expect(applied).toHaveLength(2);
    reader.next = () => ({ State: 'applied' });
    await vi.advanceTimersByTimeAsync(100);
    expect(applied.slice(2)).toEqual([{ httpTokens: 'optional', hopLimit: 1 }]);
  });

  it('keeps the options while State is pending', async () => {
    reader.next = () => ({ State: 'pending', HttpTokens: 'required' });
    await apply({ followEc2: FOLLOW });
    await vi.advanceTimersByTimeAsync(500);
    expect(options.httpTokens).toBe('optional');
    reader.next = () => ({ State: 'applied', HttpTokens: 'required' });
    await vi.advanceTimersByTimeAsync(100);
    expect(options.httpTokens).toBe('required');
  });

  it('logs each distinct error once, keeps the options, and logs again after a recovery', async () => {
    await apply({ followEc2: FOLLOW });
    let fail: Error | undefined = Object.assign(new Error('The instance ID does not exist'), { name: 'InvalidInstanceID.NotFound' });
    reader.next = () => {
      if (fail !== undefined) throw fail;
      return { State: 'applied', HttpTokens: 'required' };
    };
    await vi.advanceTimersByTimeAsync(500);
    expect(logged).toEqual(['mock-imds: followEc2 DescribeInstances i-0follow at http://10.41.0.2:5000: InvalidInstanceID.NotFound: The instance ID does not exist']);
    fail = new Error('connect ECONNREFUSED 10.41.0.2:5000');
    await vi.advanceTimersByTimeAsync(500);
    expect(logged).toHaveLength(2);
    expect(logged[1]).toMatch(/: connect ECONNREFUSED 10\.41\.0\.2:5000$/);
    expect(options.httpTokens).toBe('optional');
    fail = undefined;
    await vi.advanceTimersByTimeAsync(100);
    expect(options.httpTokens).toBe('required');
    fail = new Error('connect ECONNREFUSED 10.41.0.2:5000');
    await vi.advanceTimersByTimeAsync(300);
    expect(logged).toHaveLength(3);
  });

  it('logs an instance missing from the answer, and a hop limit the mock cannot serve', async () => {
    reader.next = () => undefined;
    await apply({ followEc2: FOLLOW });
    await vi.advanceTimersByTimeAsync(300);
    reader.next = () => ({ State: 'applied', HttpPutResponseHopLimit: 99 });
    await vi.advanceTimersByTimeAsync(300);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatch(/instance i-0follow is not in the DescribeInstances answer$/);
    expect(logged[1]).toMatch(/cannot be served: mock IMDS option hopLimit must be an integer 1\.\.64$/);
    expect(options.hopLimit).toBe(1);
  });

  it('follows a new instance id at once and stops polling when followEc2 goes back to null', async () => {
    await apply({ followEc2: FOLLOW });
    await vi.advanceTimersByTimeAsync(0);
    await apply({ instanceId: 'i-0other' });
    await vi.advanceTimersByTimeAsync(0);
    expect(reader.targets.map((t) => t.instanceId)).toEqual(['i-0follow', 'i-0other']);
    await apply({ followEc2: null });
    const polls = reader.targets.length;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reader.targets).toHaveLength(polls);
  });

  it('stops for good on stop() and closes the reader', async () => {
    await apply({ followEc2: FOLLOW });
    await vi.advanceTimersByTimeAsync(0);
    await follower.stop();
    follower.configure(mergeMockImdsOptions(options, { instanceId: 'i-0later' }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reader.targets).toHaveLength(1);
    expect(reader.closed).toBeGreaterThanOrEqual(1);
  });
});
