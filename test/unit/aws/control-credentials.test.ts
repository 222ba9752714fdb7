import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { controlCredentials, instanceRoleCredentials, safeMessage } from '../../../src/aws/control-credentials.js';
import { ImdsClient } from '../../../src/aws/imds-client.js';
import { OWN_USER_AGENT } from '../../../src/classify/own-request.js';
import { MockImdsServer } from '../../../src/testbed/mock-imds.js';

describe('control credentials against the mock IMDS on loopback', () => {
  const mock = new MockImdsServer({ httpTokens: 'required', credentials: { accessKeyId: 'ASIAROLE000000000000', secretAccessKey: 'roleSecret', token: 'roleSession', expiration: '2099-01-01T00:00:00Z' } });
  let port = 0;
  const client = (): ImdsClient => new ImdsClient(1000, new Set(), Date.now, { host: '127.0.0.1', port });
  const saved = { ...process.env };

  beforeAll(async () => {
    port = (await mock.listen({ host: '127.0.0.1', port: 0 })).port;
  });
  afterAll(async () => {
    await mock.close();
  });
  beforeEach(() => {
    mock.clearRequests();
    mock.setOptions({ role: 'imds-sniff-test-role' });
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[k];
    process.env['AWS_CONFIG_FILE'] = '/nonexistent';
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent';
  });
  afterAll(() => {
    process.env = saved;
  });

  it("reads the instance role's credentials with IMDSv2 and imds-sniff's own User-Agent", async () => {
    const creds = await instanceRoleCredentials(client());
    expect(creds).toEqual({ accessKeyId: 'ASIAROLE000000000000', secretAccessKey: 'roleSecret', sessionToken: 'roleSession', expiration: new Date('2099-01-01T00:00:00Z') });
    expect(mock.requests.map((r) => [r.kind, r.userAgent])).toEqual([
      ['token', OWN_USER_AGENT],
      ['v2', OWN_USER_AGENT],
      ['v2', OWN_USER_AGENT],
    ]);
  });

  it('no role attached: a credentials error the CLI turns into its hint', async () => {
    mock.setOptions({ role: null });
    await expect(instanceRoleCredentials(client())).rejects.toMatchObject({ name: 'CredentialsProviderError', message: expect.stringMatching(/no instance profile is attached/) });
  });

  it('environment credentials win, and IMDS is not asked; without them the role is used once, then cached', async () => {
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIAENV0000000000000';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'envSecret';
    expect(await controlCredentials(client())()).toMatchObject({ accessKeyId: 'AKIAENV0000000000000' });
    expect(mock.requests).toEqual([]);
    delete process.env['AWS_ACCESS_KEY_ID'];
    delete process.env['AWS_SECRET_ACCESS_KEY'];
    const provider = controlCredentials(client());
    expect(await provider()).toMatchObject({ accessKeyId: 'ASIAROLE000000000000' });
    expect(await provider()).toMatchObject({ accessKeyId: 'ASIAROLE000000000000' });
    expect(mock.requests.filter((r) => r.path.includes('security-credentials'))).toHaveLength(2); // role name + document, once
    expect(mock.requests.every((r) => r.userAgent === OWN_USER_AGENT)).toBe(true);
  });

  it('concurrent callers share one load of the role', async () => {
    const provider = controlCredentials(client());
    const all = await Promise.all([provider(), provider(), provider()]);
    expect(all.map((c) => c.accessKeyId)).toEqual(['ASIAROLE000000000000', 'ASIAROLE000000000000', 'ASIAROLE000000000000']);
    expect(mock.requests.filter((r) => r.path.includes('security-credentials'))).toHaveLength(2);
  });

  it('a configured source that fails (an expired SSO session) is reported, not replaced by the instance role', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-creds-'));
    try {
      const config = join(dir, 'config');
      writeFileSync(config, '[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Admin\n');
      process.env['AWS_CONFIG_FILE'] = config;
      process.env['AWS_PROFILE'] = 'sso';
      process.env['HOME'] = dir; // no cached SSO token here
      await expect(controlCredentials(client())()).rejects.toMatchObject({ name: 'CredentialsProviderError', message: expect.stringMatching(/configured credentials could not be loaded: The SSO session .* is invalid/) });
      expect(mock.requests).toEqual([]);
    } finally {
      process.env['HOME'] = saved['HOME'];
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('AWS_EC2_METADATA_DISABLED=true keeps the instance role out, as it does for the SDK', async () => {
    process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
    try {
      await expect(controlCredentials(client())()).rejects.toMatchObject({ message: expect.stringMatching(/AWS_EC2_METADATA_DISABLED=true rules out the instance profile/) });
      expect(mock.requests).toEqual([]);
    } finally {
      delete process.env['AWS_EC2_METADATA_DISABLED'];
    }
  });

  it.each([
    ['Command failed: /opt/get-creds --secret-key wJalrXUtnFEMI/K7MDENG\nstderr…', 'Command failed (the credential_process command is not shown)'],
    ['Profile x: aws_session_token=IQoJb3JpZ2luX2VjEKr is malformed', 'Profile x: aws_session_token=[redacted] is malformed'],
    ['The SSO session associated with this profile is invalid.', 'The SSO session associated with this profile is invalid.'],
  ])('a source error is shown without secrets: %j', (message, shown) => {
    expect(safeMessage(message)).toBe(shown);
  });
});
