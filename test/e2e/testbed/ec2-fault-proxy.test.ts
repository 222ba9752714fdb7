// The EC2 fault proxy in front of moto: DryRun answers moto lacks, injected errors, MetadataOptions State pending.

import { DescribeInstancesCommand, EC2Client, ModifyInstanceMetadataOptionsCommand, type EC2ServiceException } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeMetadataOptions, runInstance } from '../../helpers/ec2-call.js';
import { EC2_INTERNAL_ERROR, EC2_THROTTLED, EC2_UNAUTHORIZED, Ec2FaultPlan, failNext, parseEc2Faults, queryErrorXml, rewriteMetadataState } from '../../helpers/ec2-faults.js';
import { Ec2FaultProxy } from '../../helpers/ec2-fault-proxy.js';
import { MotoServer, motoSkipReason } from '../../helpers/moto.js';

describe('EC2 fault plan (pure)', () => {
  it('fails the next N calls of an action, then forwards', () => {
    const plan = new Ec2FaultPlan({ fail: [failNext('DescribeInstances', 2, EC2_THROTTLED)] });
    expect(plan.decide('ModifyInstanceMetadataOptions', false)).toEqual({ kind: 'forward', pending: false });
    expect(plan.decide('DescribeInstances', false)).toMatchObject({ kind: 'answer', outcome: 'fault', answer: EC2_THROTTLED });
    expect(plan.decide('DescribeInstances', true)).toMatchObject({ outcome: 'fault' });
    expect(plan.decide('DescribeInstances', false)).toEqual({ kind: 'forward', pending: false });
    expect(plan.remaining).toEqual({ fail: [], pendingDescribes: 0, pendingModifyAnswers: false });
  });

  it('answers DryRun ModifyInstanceMetadataOptions itself, after configured errors', () => {
    const plan = new Ec2FaultPlan({ fail: [failNext('ModifyInstanceMetadataOptions', 1, EC2_UNAUTHORIZED)] });
    expect(plan.decide('ModifyInstanceMetadataOptions', true)).toMatchObject({ outcome: 'fault', answer: { code: 'UnauthorizedOperation' } });
    expect(plan.decide('ModifyInstanceMetadataOptions', true)).toMatchObject({ outcome: 'dry-run', answer: { status: 412, code: 'DryRunOperation' } });
    expect(plan.decide('ModifyInstanceMetadataOptions', false)).toEqual({ kind: 'forward', pending: false });
  });

  it('forwards first, then answers the error, for a rule with afterForward (a lost answer)', () => {
    const plan = new Ec2FaultPlan({ fail: [{ ...failNext('ModifyInstanceMetadataOptions', 1, EC2_INTERNAL_ERROR), afterForward: true }] });
    expect(plan.decide('ModifyInstanceMetadataOptions', false)).toEqual({ kind: 'forward-then-answer', answer: EC2_INTERNAL_ERROR });
    expect(plan.decide('ModifyInstanceMetadataOptions', false)).toEqual({ kind: 'forward', pending: false });
    expect(() => parseEc2Faults({ fail: [{ ...failNext('X', 1, EC2_INTERNAL_ERROR), afterForward: 'yes' }] })).toThrow(/fail\[0\]\.afterForward must be a boolean/);
  });

  it("keeps failing with count 'all'", () => {
    const plan = new Ec2FaultPlan({ fail: [failNext('DescribeInstances', 'all', EC2_UNAUTHORIZED)] });
    for (let i = 0; i < 5; i += 1) expect(plan.decide('DescribeInstances', false).kind).toBe('answer');
  });

  it('rewrites State inside metadataOptions only, for the next N DescribeInstances calls', () => {
    const xml = '<instanceState><code>16</code><name>running</name></instanceState><monitoring><state>disabled</state></monitoring>' +
      '<metadataOptions><state>applied</state><httpTokens>required</httpTokens></metadataOptions>';
    expect(rewriteMetadataState(xml, 'metadataOptions')).toBe(xml.replace('<state>applied</state>', '<state>pending</state>'));
    const plan = new Ec2FaultPlan({ pendingDescribes: 1 });
    // Decided when the call comes in: a setFaults while it is at the target does not change its answer.
    expect(plan.decide('DescribeInstances', false)).toEqual({ kind: 'forward', pending: true });
    expect(plan.decide('DescribeInstances', false)).toEqual({ kind: 'forward', pending: false });
    expect(plan.rewrite('DescribeInstances', 400, xml, true).rewritten).toBe(false);
    expect(plan.rewrite('DescribeInstances', 200, xml, true).rewritten).toBe(true);
    expect(plan.rewrite('DescribeInstances', 200, xml, false).rewritten).toBe(false);
  });

  it.each([
    [{ fail: {} }, /fail must be an array/],
    [{ fail: [{ action: 'X', count: -1, status: 503, code: 'C', message: '' }] }, /fail\[0\]\.count/],
    [{ fail: [{ action: 'X', count: 1, status: 200, code: 'C', message: '' }] }, /fail\[0\]\.status/],
    [{ pendingDescribes: 'some' }, /pendingDescribes must be a count or 'all'/],
    [{ bogus: true }, /unknown EC2 fault setting bogus/],
  ])('rejects the bad setting %o', (faults, message) => {
    expect(() => parseEc2Faults(faults)).toThrow(message);
  });

  it('escapes the error document', () => {
    expect(queryErrorXml({ status: 400, code: 'A&B', message: '<x>' }, 'r1')).toContain('<Code>A&amp;B</Code><Message>&lt;x&gt;</Message></Error></Errors><RequestID>r1</RequestID>');
  });
});

const skip = motoSkipReason();

describe.skipIf(skip !== null)(skip === null ? 'EC2 fault proxy in front of moto' : `EC2 fault proxy in front of moto (skipped: ${skip})`, () => {
  let moto: MotoServer;
  let proxy: Ec2FaultProxy;
  let instanceId: string;
  let ec2: EC2Client;

  /** A client through the proxy; one attempt, so every injected error reaches the test. */
  const client = (endpoint: string): EC2Client =>
    new EC2Client({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  /** The error a call rejects with. */
  const failure = async (call: Promise<unknown>): Promise<EC2ServiceException> => {
    try {
      await call;
    } catch (error) {
      return error as EC2ServiceException;
    }
    throw new Error('the call succeeded');
  };
  const moto$ = () => ({ endpoint: moto.endpoint, netns: null });

  beforeAll(async () => {
    moto = await MotoServer.start();
    proxy = await Ec2FaultProxy.start({ target: moto.endpoint });
    instanceId = await runInstance(moto$());
    ec2 = client(proxy.endpoint);
  });
  afterAll(async () => {
    ec2?.destroy();
    await proxy?.stop();
    await moto?.stop();
  });

  it('answers a DryRun ModifyInstanceMetadataOptions with DryRunOperation and leaves moto unchanged', async () => {
    proxy.clearRequests();
    const error = await failure(ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: instanceId, HttpTokens: 'required', DryRun: true })));
    expect(error.name).toBe('DryRunOperation');
    expect(error.message).toBe('Request would have succeeded, but DryRun flag is set.');
    expect(error.$metadata.httpStatusCode).toBe(412);
    expect(await describeMetadataOptions(moto$(), instanceId)).toMatchObject({ State: 'applied', HttpTokens: 'optional', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 });
    expect(await proxy.requests()).toEqual([
      expect.objectContaining({
        action: 'ModifyInstanceMetadataOptions',
        dryRun: true,
        outcome: 'dry-run',
        status: 412,
        code: 'DryRunOperation',
        params: expect.objectContaining({ InstanceId: instanceId, HttpTokens: 'required', DryRun: 'true' }),
        userAgent: expect.stringContaining('aws-sdk-js'),
      }),
    ]);
  });

  it('forwards a real ModifyInstanceMetadataOptions to moto', async () => {
    const answer = await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: instanceId, HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 2 }));
    expect(answer.InstanceMetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 2 });
    expect(await describeMetadataOptions(moto$(), instanceId)).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 2 });
    expect((await proxy.calls('ModifyInstanceMetadataOptions')).at(-1)).toMatchObject({ outcome: 'forwarded', status: 200, code: null });
  });

  it('with afterForward, moto makes the change and the client gets the error', async () => {
    await proxy.setFaults({ fail: [{ ...failNext('ModifyInstanceMetadataOptions', 1, EC2_INTERNAL_ERROR), afterForward: true }] });
    const noRetry = new EC2Client({ region: 'us-east-1', endpoint: proxy.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const error = await failure(noRetry.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: instanceId, HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 4 })));
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['InternalError', 500]);
    expect(await describeMetadataOptions(moto$(), instanceId)).toMatchObject({ HttpPutResponseHopLimit: 4 });
    expect((await proxy.calls('ModifyInstanceMetadataOptions')).at(-1)).toMatchObject({ outcome: 'lost-answer', status: 500, code: 'InternalError' });
    noRetry.destroy();
  });

  it('fails the next N calls with RequestLimitExceeded (503), then passes them through', async () => {
    await proxy.setFaults({ fail: [failNext('DescribeInstances', 2, EC2_THROTTLED)] });
    proxy.clearRequests();
    for (let i = 0; i < 2; i += 1) {
      const error = await failure(ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })));
      expect(error.name).toBe('RequestLimitExceeded');
      expect(error.$metadata.httpStatusCode).toBe(503);
    }
    const answer = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    expect(answer.Reservations?.[0]?.Instances?.[0]?.InstanceId).toBe(instanceId);
    expect((await proxy.requests()).map((r) => [r.outcome, r.status, r.code])).toEqual([
      ['fault', 503, 'RequestLimitExceeded'],
      ['fault', 503, 'RequestLimitExceeded'],
      ['forwarded', 200, null],
    ]);
  });

  it('lets the SDK retry through throttling with its default retry policy', async () => {
    await proxy.setFaults({ fail: [failNext('DescribeInstances', 1, EC2_THROTTLED)] });
    const retrying = new EC2Client({ region: 'us-east-1', endpoint: proxy.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      const answer = await retrying.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      expect(answer.$metadata.attempts).toBe(2);
    } finally {
      retrying.destroy();
    }
  });

  it('fails ModifyInstanceMetadataOptions with UnauthorizedOperation (403) without changing moto', async () => {
    await proxy.setFaults({ fail: [failNext('ModifyInstanceMetadataOptions', 1, EC2_UNAUTHORIZED)] });
    const error = await failure(ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: instanceId, HttpTokens: 'optional' })));
    expect(error.name).toBe('UnauthorizedOperation');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toMatch(/^You are not authorized to perform this operation\. Encoded authorization failure message: \S+$/);
    expect(await describeMetadataOptions(moto$(), instanceId)).toMatchObject({ HttpTokens: 'required' });
  });

  it('says MetadataOptions State pending for the next N DescribeInstances, then applied', async () => {
    await proxy.setFaults({ pendingDescribes: 2 });
    const states: (string | undefined)[] = [];
    for (let i = 0; i < 3; i += 1) {
      const answer = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      states.push(answer.Reservations?.[0]?.Instances?.[0]?.MetadataOptions?.State);
    }
    expect(states).toEqual(['pending', 'pending', 'applied']);
    expect((await proxy.calls('DescribeInstances')).slice(-3).map((r) => r.outcome)).toEqual(['pending', 'pending', 'forwarded']);
  });

  it("says pending for every DescribeInstances with 'all', until the faults change", async () => {
    const faults = await proxy.setFaults({ pendingDescribes: 'all' });
    expect(faults).toEqual({ fail: [], pendingDescribes: 'all', pendingModifyAnswers: false });
    for (let i = 0; i < 3; i += 1) {
      const answer = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      expect(answer.Reservations?.[0]?.Instances?.[0]?.MetadataOptions?.State).toBe('pending');
    }
    await proxy.setFaults({});
    const answer = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    expect(answer.Reservations?.[0]?.Instances?.[0]?.MetadataOptions?.State).toBe('applied');
  });

  it('says State pending in ModifyInstanceMetadataOptions answers when asked, as real EC2 does', async () => {
    await proxy.setFaults({ pendingModifyAnswers: true });
    const answer = await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: instanceId, HttpTokens: 'required' }));
    expect(answer.InstanceMetadataOptions?.State).toBe('pending');
    await proxy.setFaults({});
  });

  it("passes moto's own errors through and logs their code", async () => {
    const error = await failure(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0000000000000000f'] })));
    expect(error.name).toBe('InvalidInstanceID.NotFound');
    expect((await proxy.requests()).at(-1)).toMatchObject({ outcome: 'forwarded', status: 400, code: 'InvalidInstanceID.NotFound' });
  });

  it('rejects bad fault settings and keeps the old ones', async () => {
    await proxy.setFaults({ pendingDescribes: 1 });
    await expect(proxy.setFaults({ pendingDescribes: -1 } as never)).rejects.toThrow(/pendingDescribes must be a count/);
    expect(await proxy.setFaults({ pendingDescribes: 1 })).toMatchObject({ pendingDescribes: 1 });
    await proxy.setFaults({});
  });

  it('counts calls by action and outcome', async () => {
    proxy.clearRequests();
    await proxy.setFaults({ fail: [failNext('DescribeInstances', 1, EC2_THROTTLED)] });
    await failure(ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })));
    await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    await failure(ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: instanceId, HttpTokens: 'required', DryRun: true })));
    expect(await proxy.stats()).toEqual({
      total: 3,
      byAction: { DescribeInstances: 2, ModifyInstanceMetadataOptions: 1 },
      byOutcome: { fault: 1, forwarded: 1, 'dry-run': 1 },
    });
  });

  it('answers 502 when moto is gone', async () => {
    const orphan = await Ec2FaultProxy.start({ target: 'http://127.0.0.1:9' });
    const lonely = client(orphan.endpoint);
    try {
      const error = await failure(lonely.send(new DescribeInstancesCommand({})));
      expect(error.$metadata?.httpStatusCode).toBe(502);
      expect((await orphan.requests()).map((r) => r.outcome)).toEqual(['upstream-error']);
    } finally {
      lonely.destroy();
      await orphan.stop();
    }
  });

  it('fails to start with the reason when the script refuses its arguments', async () => {
    await expect(Ec2FaultProxy.start({ target: moto.endpoint, faults: { bogus: 1 } as never })).rejects.toThrow(/exited \(code 1\) before listening: ec2-fault-proxy: unknown EC2 fault setting bogus/);
  });
});
