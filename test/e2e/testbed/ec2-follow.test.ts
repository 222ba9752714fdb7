// The mock IMDS following moto's EC2 API: ModifyInstanceMetadataOptions in moto changes what curl gets in the testbed.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curlToken, curlV1, curlWithToken } from '../../../src/testbed/clients.js';
import type { MockImdsOptions } from '../../../src/testbed/mock-imds-options.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { createTestbed, destroyStaleTestbeds, type Testbed } from '../../../src/testbed/testbed.js';
import { ec2Call, runInstance, type Ec2CallTarget, type InstanceMetadataOptions } from '../../helpers/ec2-call.js';
import { Ec2FaultProxy } from '../../helpers/ec2-fault-proxy.js';
import { resolveMockImdsEc2Script } from '../../helpers/mock-imds-ec2-follower.js';
import { MotoServer, motoSkipReason } from '../../helpers/moto.js';
import { waitUntil } from '../../helpers/wait-until.js';

const prereq = testbedPrerequisites();
const skip = !prereq.ok ? prereq.reason : motoSkipReason();
const prefix = `imdsf${randomBytes(3).toString('hex')}`;
const POLL_MS = 100;

describe.skipIf(skip !== null)(skip === null ? 'mock IMDS follows EC2 (moto)' : `mock IMDS follows EC2 (moto) (skipped: ${skip})`, () => {
  let tb: Testbed;
  let moto: MotoServer;
  let proxy: Ec2FaultProxy;
  let instanceId: string;
  /** moto as the test's EC2 client sees it: 127.0.0.1 in the testbed host namespace. */
  let ec2: Ec2CallTarget;
  let stderr = '';

  const modify = (options: Omit<InstanceMetadataOptions, 'State' | 'HttpProtocolIpv6'>, id = instanceId) =>
    ec2Call(ec2, 'ModifyInstanceMetadataOptions', { InstanceId: id, ...options });
  const v1Status = async (path?: string): Promise<string> => (await curlV1(tb, 'host', path)).stdout;
  const untilV1 = async (status: string, path?: string): Promise<void> => {
    let last = '';
    await waitUntil(async () => (last = await v1Status(path)) === status, 10_000, `IMDSv1 GET ${path ?? ''} to answer ${status}`, { detail: () => `still ${last}` });
  };
  const untilOptions = async (what: string, done: (o: MockImdsOptions) => boolean): Promise<void> => {
    let last: MockImdsOptions | undefined;
    await waitUntil(async () => done((last = await tb.mock.getOptions())), 10_000, what, { detail: () => `still ${JSON.stringify(last)}` });
  };
  /** Mock log lines of the follower (the SDK also warns on stderr about old Node versions). */
  const followerLines = (): string[] => stderr.split('\n').filter((l) => l.startsWith('mock-imds: followEc2'));

  beforeAll(async () => {
    tb = await createTestbed({ prefix, block: 41, mockScript: resolveMockImdsEc2Script() });
    tb.mockProcess?.stderr?.on('data', (chunk: Buffer | string) => {
      stderr += chunk.toString();
    });
    // On 0.0.0.0 in the host namespace: 127.0.0.1 for clients there, 10.41.0.2 for the mock in the imds namespace.
    moto = await MotoServer.start(undefined, tb.nsName('host'), { host: '0.0.0.0' });
    ec2 = { endpoint: moto.endpoint, netns: tb.nsName('host') };
    instanceId = await runInstance(ec2);
    proxy = await Ec2FaultProxy.start({ target: moto.endpoint, netns: tb.nsName('host'), listen: '0.0.0.0:0' });
    await tb.mock.setOptions({
      instanceId,
      region: 'us-east-1',
      followEc2: { endpoint: moto.endpointAt(tb.layout.host.v4), intervalMs: POLL_MS },
    });
  });

  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
    await tb?.destroy().catch(() => undefined);
    await destroyStaleTestbeds(prefix);
  });

  it('serves IMDSv1 while the instance allows it, with moto\'s instance id', async () => {
    expect(await v1Status()).toBe('200');
    const token = (await curlToken(tb, 'host')).stdout;
    const id = await tb.exec('host', ['curl', '-sS', '--max-time', '3', '-H', `X-aws-ec2-metadata-token: ${token}`, 'http://169.254.169.254/latest/meta-data/instance-id']);
    expect(id.stdout).toBe(instanceId);
  });

  it('refuses token-less GETs with 401 once moto says HttpTokens=required, and still serves IMDSv2', async () => {
    await modify({ HttpTokens: 'required' });
    await untilV1('401');
    const token = await curlToken(tb, 'host');
    expect(token.code).toBe(0);
    expect((await curlWithToken(tb, 'host', token.stdout)).stdout).toBe('200');
  });

  it('serves IMDSv1 again once moto says HttpTokens=optional', async () => {
    await modify({ HttpTokens: 'optional' });
    await untilV1('200');
  });

  it('takes the hop limit (and its nft rules) from moto: a container behind NAT then gets a token', async () => {
    await modify({ HttpTokens: 'optional', HttpPutResponseHopLimit: 2 });
    await untilOptions('hop limit', (o) => o.hopLimit === 2);
    const rules = await tb.exec('imds', ['nft', 'list', 'table', 'inet', 'imds_mock']);
    expect(rules.stdout).toContain('ip ttl set 2');
    const token = await curlToken(tb, 'ctr');
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^[A-Za-z0-9+/=]{56}$/);
  });

  it('serves instance tags once moto says InstanceMetadataTags=enabled', async () => {
    expect(await v1Status('/latest/meta-data/tags/instance/')).toBe('404');
    await modify({ InstanceMetadataTags: 'enabled' });
    await untilV1('200', '/latest/meta-data/tags/instance/');
    // moto's Modify dropped the hop limit it was not given: EC2's default 1 again.
    expect((await tb.mock.getOptions()).hopLimit).toBe(1);
  });

  it('answers 403 once moto says HttpEndpoint=disabled, and serves again when enabled', async () => {
    await modify({ HttpEndpoint: 'disabled' });
    await untilV1('403');
    expect((await curlToken(tb, 'host')).stdout).not.toMatch(/^[A-Za-z0-9+/=]{56}$/);
    await modify({ HttpEndpoint: 'enabled' });
    await untilV1('200');
  });

  it('keeps its options while MetadataOptions State is pending (through the fault proxy), and applies them once applied', async () => {
    await proxy.setFaults({ pendingDescribes: 'all' });
    await tb.mock.setOptions({ followEc2: { endpoint: proxy.endpointAt(tb.layout.host.v4), intervalMs: POLL_MS } });
    await modify({ HttpTokens: 'required' });
    const seen = (await proxy.requests()).length;
    // Polls run one at a time: of two polls that arrive after the Modify, the second was sent after moto changed.
    await proxy.waitForRequests((log) => log.slice(seen).filter((r) => r.action === 'DescribeInstances' && r.outcome === 'pending').length >= 2);
    expect((await tb.mock.getOptions()).httpTokens).toBe('optional');
    expect(await v1Status()).toBe('200');
    await proxy.setFaults({});
    await untilV1('401');
    expect((await proxy.calls('DescribeInstances')).every((r) => r.params['InstanceId.1'] === instanceId)).toBe(true);
  });

  it('logs a poll error once, keeps polling and leaves the options alone for an instance moto does not know', async () => {
    const before = await tb.mock.getOptions();
    const unknown = 'i-0000000000000000f';
    const seen = (await proxy.requests()).length;
    await tb.mock.setOptions({ instanceId: unknown });
    await modify({ HttpTokens: 'optional' });
    await proxy.waitForRequests((log) => log.slice(seen).filter((r) => r.params['InstanceId.1'] === unknown && r.code === 'InvalidInstanceID.NotFound').length >= 3);
    const after = await tb.mock.getOptions();
    expect(after).toMatchObject({ instanceId: unknown, httpTokens: before.httpTokens, httpEndpoint: before.httpEndpoint, hopLimit: before.hopLimit });
    expect(followerLines().filter((l) => l.includes(unknown))).toEqual([
      `mock-imds: followEc2 DescribeInstances ${unknown} at ${proxy.endpointAt(tb.layout.host.v4)}: InvalidInstanceID.NotFound: The instance ID '${unknown}' does not exist`,
    ]);
    // Back to the real instance: the poll succeeds and applies moto's HttpTokens=optional.
    await tb.mock.setOptions({ instanceId });
    await untilV1('200');
  });
});
