import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImdsClient } from '../../../src/aws/imds-client.js';
import { discoverIdentity } from '../../../src/aws/instance-identity.js';
import { MockImdsServer } from '../../../src/testbed/mock-imds.js';

describe('ImdsClient against the mock IMDS on loopback', () => {
  let clock = 1_700_000_000_000;
  const mock = new MockImdsServer({ httpTokens: 'required', instanceMetadataTags: 'enabled', tags: { 'aws:autoscaling:groupName': 'web-asg' } }, { now: () => clock });
  let port = 0;

  beforeAll(async () => {
    port = (await mock.listen({ host: '127.0.0.1', port: 0 })).port;
  });
  afterAll(async () => {
    await mock.close();
  });

  it('uses IMDSv2 only, and one token until shortly before it expires', async () => {
    mock.clearRequests();
    const own = new Set<number>();
    const client = new ImdsClient(1000, own, () => clock, { host: '127.0.0.1', port });
    expect(await client.get('/latest/meta-data/instance-id')).toBe('i-0123456789abcdef0');
    expect(await client.get('/latest/meta-data/instance-type')).toBe('t3.micro');
    clock += 6 * 3600 * 1000 - 30_000; // within the renewal margin of the 6 h token
    await client.get('/latest/meta-data/ami-id');
    const kinds = mock.requests.map((r) => r.kind);
    expect(kinds).toEqual(['token', 'v2', 'v2', 'token', 'v2']);
    expect(own.size).toBeGreaterThanOrEqual(1); // the source ports it used, for the capture's `own` mark
  });

  it('answers null for a path IMDS does not have', async () => {
    const client = new ImdsClient(1000, new Set(), () => clock, { host: '127.0.0.1', port });
    expect(await client.get('/latest/meta-data/no-such-thing')).toBeNull();
  });

  it('discovers the identity document and the Auto Scaling group tag', async () => {
    const identity = await discoverIdentity(new ImdsClient(1000, new Set(), () => clock, { host: '127.0.0.1', port }), { instanceId: null, region: null });
    expect(identity).toMatchObject({ onEc2: true, instanceId: 'i-0123456789abcdef0', region: 'us-east-1', accountId: '123456789012', instanceType: 't3.micro', autoScalingGroupName: 'web-asg' });
  });

  it('says when IMDS does not answer, and keeps what config gives', async () => {
    const identity = await discoverIdentity(new ImdsClient(300, new Set(), () => clock, { host: '127.0.0.1', port: 1 }), { instanceId: 'i-0aaaaaaaaaaaaaaaa', region: 'eu-west-1' });
    expect(identity).toMatchObject({ onEc2: false, instanceId: 'i-0aaaaaaaaaaaaaaaa', region: 'eu-west-1', autoScalingGroupName: null });
    expect(identity.note).toMatch(/no answer from IMDS/);
  });
});
