// MockImdsServer, its control channel and its child process on 127.0.0.1: no root, no namespaces.

import { request, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { TestbedError } from '../../../src/errors.js';
import { MockImdsServer } from '../../../src/testbed/mock-imds.js';
import { MockImdsControl } from '../../../src/testbed/mock-imds-control.js';
import { MockImdsControlServer } from '../../../src/testbed/mock-imds-control-server.js';
import { launchMockImds } from '../../../src/testbed/mock-imds-launcher.js';
import { renderHopLimitRuleset } from '../../../src/testbed/hop-limit-nft.js';
import { parseListenAddress } from '../../../src/testbed/mock-imds-process.js';
import { compileMockScript, type CompiledMockScript } from './compile-mock-script.js';
import { waitUntil } from '../../helpers/wait-until.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection, headers exactly as given. */
function call(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

const TTL = 'X-aws-ec2-metadata-token-ttl-seconds';
const TOKEN = 'X-aws-ec2-metadata-token';

describe('MockImdsServer', () => {
  let nowMs = 1_700_000_000_000;
  const server = new MockImdsServer({}, { now: () => nowMs });
  let port = 0;
  const getToken = async (ttl = '60'): Promise<string> => (await call(port, 'PUT', '/latest/api/token', { [TTL]: ttl })).body;

  beforeAll(async () => {
    port = (await server.listen({ host: '127.0.0.1', port: 0 })).port;
  });
  afterAll(() => server.close());

  it.each([
    ['missing', undefined],
    ['0', '0'],
    ['21601', '21601'],
    ['not a number', 'abc'],
    ['negative', '-5'],
    ['fractional', '1.5'],
  ])('answers a token PUT with TTL %s with 400', async (_name, ttl) => {
    const res = await call(port, 'PUT', '/latest/api/token', ttl === undefined ? {} : { [TTL]: ttl });
    expect(res.status).toBe(400);
  });

  it.each(['1', '21600'])('issues a 56-character token for TTL %s and echoes the TTL', async (ttl) => {
    const res = await call(port, 'PUT', '/latest/api/token', { [TTL]: ttl });
    expect(res.status).toBe(200);
    expect(res.headers[TTL.toLowerCase()]).toBe(ttl);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.body).toMatch(/^[A-Za-z0-9+/=]{56}$/);
  });

  it('refuses a token PUT carrying X-Forwarded-For with 403', async () => {
    const res = await call(port, 'PUT', '/latest/api/token', { [TTL]: '60', 'X-Forwarded-For': '203.0.113.9' });
    expect(res.status).toBe(403);
  });

  it('serves IMDSv2: token PUT then GET with the token', async () => {
    const token = await getToken();
    const res = await call(port, 'GET', '/latest/meta-data/instance-id', { [TOKEN]: token });
    expect(res).toMatchObject({ status: 200, body: 'i-0123456789abcdef0' });
  });

  it('answers 401 once the token TTL has passed (injected clock)', async () => {
    const token = await getToken('5');
    nowMs += 4_999;
    expect((await call(port, 'GET', '/latest/meta-data/ami-id', { [TOKEN]: token })).status).toBe(200);
    nowMs += 1;
    expect((await call(port, 'GET', '/latest/meta-data/ami-id', { [TOKEN]: token })).status).toBe(401);
  });

  it('answers 401 to an unknown token even when tokens are optional', async () => {
    expect((await call(port, 'GET', '/latest/meta-data/ami-id', { [TOKEN]: 'forged' })).status).toBe(401);
  });

  it('serves IMDSv1 when httpTokens is optional and refuses it with 401 when required', async () => {
    expect((await call(port, 'GET', '/latest/meta-data/local-ipv4')).status).toBe(200);
    server.setOptions({ httpTokens: 'required' });
    try {
      expect((await call(port, 'GET', '/latest/meta-data/local-ipv4')).status).toBe(401);
      const token = await getToken();
      expect((await call(port, 'GET', '/latest/meta-data/local-ipv4', { [TOKEN]: token })).status).toBe(200);
    } finally {
      server.setOptions({ httpTokens: 'optional' });
    }
  });

  it('answers 403 to everything when httpEndpoint is disabled', async () => {
    server.setOptions({ httpEndpoint: 'disabled' });
    try {
      expect((await call(port, 'GET', '/latest/meta-data/')).status).toBe(403);
      expect((await call(port, 'PUT', '/latest/api/token', { [TTL]: '60' })).status).toBe(403);
    } finally {
      server.setOptions({ httpEndpoint: 'enabled' });
    }
  });

  it('serves planted canary credentials and a fixed canary token', async () => {
    server.setOptions({
      role: 'canary-role',
      fixedToken: 'CANARY-TOKEN',
      credentials: { accessKeyId: 'ASIACANARY', secretAccessKey: 'canary-secret', token: 'canary-session', expiration: '2030-01-01T00:00:00Z' },
    });
    try {
      const token = await getToken();
      expect(token).toBe('CANARY-TOKEN');
      const list = await call(port, 'GET', '/latest/meta-data/iam/security-credentials/', { [TOKEN]: token });
      expect(list.body).toBe('canary-role');
      const creds = await call(port, 'GET', '/latest/meta-data/iam/security-credentials/canary-role', { [TOKEN]: token });
      expect(JSON.parse(creds.body)).toEqual({
        Code: 'Success',
        LastUpdated: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        Type: 'AWS-HMAC',
        AccessKeyId: 'ASIACANARY',
        SecretAccessKey: 'canary-secret',
        Token: 'canary-session',
        Expiration: '2030-01-01T00:00:00Z',
      });
      expect((await call(port, 'GET', '/latest/meta-data/iam/security-credentials/other-role')).status).toBe(404);
    } finally {
      server.setOptions({ fixedToken: null, role: 'imds-sniff-test-role' });
    }
  });

  it.each([
    ['/latest/meta-data/placement/region', 'us-east-1'],
    ['/latest/meta-data/placement/availability-zone', 'us-east-1a'],
    ['/latest/meta-data/instance-type', 't3.micro'],
    ['/latest/meta-data/mac', '02:00:00:00:00:01'],
    ['/latest/meta-data/hostname', 'ip-10-0-0-10.ec2.internal'],
    ['/latest/meta-data/placement', 'availability-zone\nregion'],
    ['/', 'latest/'],
    ['/latest/', 'meta-data/\ndynamic/'],
  ])('serves %s', async (path, body) => {
    expect(await call(port, 'GET', path)).toMatchObject({ status: 200, body });
  });

  it('lists meta-data/ with directories ending in "/"', async () => {
    const lines = (await call(port, 'GET', '/latest/meta-data/')).body.split('\n');
    expect(lines).toEqual(expect.arrayContaining(['instance-id', 'ami-id', 'placement/', 'iam/']));
    expect(lines).not.toContain('tags/');
  });

  it('serves the identity document and iam/info', async () => {
    const doc = JSON.parse((await call(port, 'GET', '/latest/dynamic/instance-identity/document')).body);
    expect(doc).toMatchObject({
      accountId: '123456789012',
      region: 'us-east-1',
      instanceId: 'i-0123456789abcdef0',
      instanceType: 't3.micro',
      availabilityZone: 'us-east-1a',
      imageId: 'ami-0abcdef1234567890',
      privateIp: '10.0.0.10',
    });
    const info = JSON.parse((await call(port, 'GET', '/latest/meta-data/iam/info')).body);
    expect(info.InstanceProfileArn).toBe('arn:aws:iam::123456789012:instance-profile/imds-sniff-test-role');
  });

  it('serves tags only when instanceMetadataTags is enabled', async () => {
    expect((await call(port, 'GET', '/latest/meta-data/tags/instance/')).status).toBe(404);
    server.setOptions({ instanceMetadataTags: 'enabled', tags: { Name: 'web', team: 'core' } });
    try {
      expect((await call(port, 'GET', '/latest/meta-data/tags/instance/')).body).toBe('Name\nteam');
      expect((await call(port, 'GET', '/latest/meta-data/tags/instance/team')).body).toBe('core');
    } finally {
      server.setOptions({ instanceMetadataTags: 'disabled' });
    }
  });

  it.each(['/latest/meta-data/nope', '/latest/meta-data/instance-id/', '/latest/meta-data//ami-id', '/2009-04-04/'])(
    'answers 404 for %s',
    async (path) => {
      expect((await call(port, 'GET', path)).status).toBe(404);
    },
  );

  it.each([
    ['POST', '/latest/meta-data/'],
    ['DELETE', '/latest/api/token'],
    ['PUT', '/latest/meta-data/instance-id'],
  ])('answers 405 to %s %s', async (method, path) => {
    expect((await call(port, method, path, { [TTL]: '60' })).status).toBe(405);
  });

  it('answers HEAD with headers and no body', async () => {
    const res = await call(port, 'HEAD', '/latest/meta-data/instance-id');
    expect(res).toMatchObject({ status: 200, body: '' });
    expect(res.headers['content-length']).toBe('19');
  });

  it('logs what it served without token values', async () => {
    server.clearRequests();
    const token = await getToken();
    await call(port, 'GET', '/latest/meta-data/ami-id?x=1', { [TOKEN]: token, 'User-Agent': 'probe/1' });
    await call(port, 'GET', '/latest/meta-data/ami-id');
    const log = server.requests;
    expect(log.map((r) => [r.method, r.path, r.status, r.kind, r.hadToken, r.tokenCheck])).toEqual([
      ['PUT', '/latest/api/token', 200, 'token', false, 'none'],
      ['GET', '/latest/meta-data/ami-id', 200, 'v2', true, 'valid'],
      ['GET', '/latest/meta-data/ami-id', 200, 'v1', false, 'none'],
    ]);
    expect(log[1]).toMatchObject({ remoteAddress: '127.0.0.1', localPort: port, userAgent: 'probe/1' });
    expect(JSON.stringify(log)).not.toContain(token);
  });

  it.each([{ hopLimit: 0 }, { hopLimit: 65 }, { hopLimit: 1.5 }, { httpTokens: 'maybe' }, { bogus: 1 }, { credentials: {} }])(
    'rejects the bad option %o with TestbedError',
    (patch) => {
      expect(() => server.setOptions(patch)).toThrow(TestbedError);
    },
  );
});

describe('hop-limit rules and argv', () => {
  it.each([1, 2, 64])('renders TTL and hop limit %i', (hopLimit) => {
    const ruleset = renderHopLimitRuleset(hopLimit);
    expect(ruleset).toContain(`ip ttl set ${hopLimit}`);
    expect(ruleset).toContain(`ip6 hoplimit set ${hopLimit}`);
    expect(ruleset).not.toContain('@ih');
    for (let doff = 5; doff <= 15; doff++) {
      expect(ruleset).toContain(`tcp dport 80 tcp doff ${doff} @th,${doff * 32},32 0x50555420 ct mark set 1`);
    }
  });

  it.each([0, 65])('refuses hop limit %i', (hopLimit) => {
    expect(() => renderHopLimitRuleset(hopLimit)).toThrow(TestbedError);
  });

  it.each([
    ['169.254.169.254:80', { host: '169.254.169.254', port: 80 }],
    ['[fd00:ec2::254]:80', { host: 'fd00:ec2::254', port: 80 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
  ])('parses --listen %s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });
});

describe('control channel', () => {
  let dir = '';
  const mock = new MockImdsServer();
  const hopLimits: number[] = [];
  const controlServer = new MockImdsControlServer(mock, async (h) => {
    hopLimits.push(h);
  });
  let control: MockImdsControl;
  let port = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'imds-sniff-control-test-'));
    await controlServer.listen(join(dir, 'control.sock'));
    control = new MockImdsControl(join(dir, 'control.sock'));
    port = (await mock.listen({ host: '127.0.0.1', port: 0 })).port;
  });
  afterAll(async () => {
    await Promise.all([controlServer.close(), mock.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and changes options, calling the hop-limit hook only on a change', async () => {
    expect((await control.getOptions()).hopLimit).toBe(1);
    expect((await control.setOptions({ hopLimit: 2, httpTokens: 'required' })).httpTokens).toBe('required');
    await control.setOptions({ hopLimit: 2 });
    expect(hopLimits).toEqual([2]);
    expect((await call(port, 'GET', '/latest/meta-data/')).status).toBe(401);
  });

  it('rejects a bad patch with TestbedError and keeps the options', async () => {
    await expect(control.setOptions({ hopLimit: 99 })).rejects.toThrow(/hopLimit must be an integer 1\.\.64/);
    expect((await control.getOptions()).hopLimit).toBe(2);
  });

  it('returns and clears the request log', async () => {
    await control.clearRequests();
    await call(port, 'GET', '/latest/meta-data/');
    expect((await control.requests()).map((r) => [r.kind, r.status])).toEqual([['v1', 401]]);
    await control.clearRequests();
    expect(await control.requests()).toEqual([]);
  });
});

describe('mock IMDS child process (no namespace)', () => {
  let compiled: CompiledMockScript | undefined;
  let dir = '';

  beforeAll(async () => {
    compiled = await compileMockScript();
    dir = await mkdtemp(join(tmpdir(), 'imds-sniff-child-test-'));
  });
  afterAll(async () => {
    await compiled?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a ready line, applies options, serves, and exits on stop()', async () => {
    const launched = await launchMockImds({
      netns: null,
      controlPath: join(dir, 'control.sock'),
      script: compiled!.script,
      listen: ['127.0.0.1:0'],
      nft: false,
      options: { instanceId: 'i-child' },
    });
    const exited = new Promise<number | null>((resolve) => launched.child.once('exit', (code) => resolve(code)));
    try {
      expect(launched.ready).toMatchObject({ ready: true, pid: launched.child.pid, listen: [{ address: '127.0.0.1' }] });
      const port = launched.ready.listen[0]!.port;
      expect((await call(port, 'GET', '/latest/meta-data/instance-id')).body).toBe('i-child');
      expect((await launched.control.requests()).length).toBe(1);
    } finally {
      await launched.stop();
    }
    expect(await exited).toBe(0);
  });

  it('rejects with the child stderr when the mock cannot start', async () => {
    await expect(
      launchMockImds({ netns: null, controlPath: join(dir, 'c2.sock'), script: compiled!.script, listen: ['nonsense'], nft: false }),
    ).rejects.toThrow(/mock IMDS exited before ready \(code 1\): mock-imds: bad --listen address nonsense/);
  });

  it('without a plug-in (the tests add the EC2 follower) says on stderr that followEc2 does nothing', async () => {
    const launched = await launchMockImds({ netns: null, controlPath: join(dir, 'c3.sock'), script: compiled!.script, listen: ['127.0.0.1:0'], nft: false });
    let stderr = '';
    launched.child.stderr?.on('data', (text: string) => {
      stderr += text;
    });
    try {
      await launched.control.setOptions({ followEc2: { endpoint: 'http://127.0.0.1:9', intervalMs: 100 } });
      await waitUntil(() => stderr.includes('mock-imds: followEc2 is set, but this mock runs no EC2 follower plug-in'), 5_000, 'the note on stderr');
    } finally {
      await launched.stop();
    }
  });
});
