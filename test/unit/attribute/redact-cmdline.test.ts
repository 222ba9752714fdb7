import { describe, expect, it } from 'vitest';
import { redactCmdline } from '../../../src/attribute/redact-cmdline.js';

const T = 'AQAEAMockCanaryToken==';

describe('redactCmdline', () => {
  it.each([
    [['curl', '-H', `X-aws-ec2-metadata-token: ${T}`, 'http://169.254.169.254/'], ['curl', '-H', 'X-aws-ec2-metadata-token: [redacted]', 'http://169.254.169.254/']],
    [['curl', '-H', `x-aws-ec2-metadata-token:${T}`], ['curl', '-H', 'x-aws-ec2-metadata-token: [redacted]']],
    [['curl', '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 21600'], ['curl', '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 21600']],
    [['app', `--token=${T}`], ['app', '--token=[redacted]']],
    [['app', '--aws-secret-access-key', T], ['app', '--aws-secret-access-key', '[redacted]']],
    [['env', `AWS_SESSION_TOKEN=${T}`, 'x'], ['env', 'AWS_SESSION_TOKEN=[redacted]', 'x']],
    [['wget', `--header=X-aws-ec2-metadata-token: ${T}`], ['wget', '--header=X-aws-ec2-metadata-token: [redacted]']],
    [['sh', '-c', 'echo\u001b[31m'], ['sh', '-c', 'echo?[31m']],
  ])('%j', (argv, expected) => {
    const out = redactCmdline(argv);
    expect(out).toEqual(expected);
    expect(out.join(' ')).not.toContain(T);
  });
});

describe('redactCmdline inside scripts', () => {
  it('redacts a token written into sh -c', () => {
    const out = redactCmdline(['sh', '-c', `curl -s -H 'X-aws-ec2-metadata-token: ${T}' http://169.254.169.254/latest/meta-data/`]);
    expect(out[2]).toBe(`curl -s -H 'X-aws-ec2-metadata-token: [redacted]' http://169.254.169.254/latest/meta-data/`);
  });
  it('bounds long arguments', () => {
    expect(redactCmdline(['x'.repeat(5000)])[0]).toHaveLength(1025);
  });
});

describe('redactCmdline: cookies and client credentials', () => {
  it.each([
    [['curl', '--cookie', 'sid=s3cr3tC00kie', 'http://x/'], ['curl', '--cookie', '[redacted]', 'http://x/']],
    [['curl', '-b', 'sid=s3cr3tC00kie', 'http://x/'], ['curl', '-b', '[redacted]', 'http://x/']],
    [['/usr/bin/curl', '-u', 'admin:s3cr3tPw', 'http://x/'], ['/usr/bin/curl', '-u', '[redacted]', 'http://x/']],
    [['curl', '-H', 'Cookie: sid=s3cr3tC00kie'], ['curl', '-H', 'Cookie: [redacted]']],
    [['wget', '--user', 'admin', '--password=s3cr3tPw'], ['wget', '--user', '[redacted]', '--password=[redacted]']],
    [['sudo', '-u', 'root', 'id'], ['sudo', '-u', 'root', 'id']],
  ])('%j', (argv, expected) => {
    expect(redactCmdline(argv)).toEqual(expected);
  });
});

describe('redactCmdline: terminal controls', () => {
  it('replaces C0, DEL, C1 and bidi controls, and keeps other non-ASCII letters', () => {
    expect(redactCmdline(['a\u001b[31m', 'b\u009bc', 'x\u202etxt', 'Zürich'])).toEqual(['a?[31m', 'b?c', 'x?txt', 'Zürich']);
  });
});

describe('redactCmdline: values attached to client flags', () => {
  it.each([
    [['curl', '-uadmin:s3cr3tPw', 'http://x/'], ['curl', '-u[redacted]', 'http://x/']],
    [['curl', '-bsid=s3cr3tC00kie', 'http://x/'], ['curl', '-b[redacted]', 'http://x/']],
    [['curl', '--user=admin:s3cr3tPw', 'http://x/'], ['curl', '--user=[redacted]', 'http://x/']],
    [['wget', '--http-user=admin', 'http://x/'], ['wget', '--http-user=[redacted]', 'http://x/']],
    [['curl', '-sS', 'http://x/'], ['curl', '-sS', 'http://x/']],
  ])('%j', (argv, expected) => {
    expect(redactCmdline(argv)).toEqual(expected);
  });
});

describe('redactCmdline: a secret named by the argument before it', () => {
  it.each([
    [['aws', 'configure', 'set', 'aws_secret_access_key', 'wJalrXUtnFEMI/K7MDENG'], ['aws', 'configure', 'set', 'aws_secret_access_key', '[redacted]']],
    [['aws', 'configure', 'set', 'aws_session_token', 'IQoJb3JpZ2lu'], ['aws', 'configure', 'set', 'aws_session_token', '[redacted]']],
    [['aws', 'configure', 'set', 'region', 'us-east-1'], ['aws', 'configure', 'set', 'region', 'us-east-1']],
  ])('%j', (argv, expected) => {
    expect(redactCmdline(argv)).toEqual(expected);
  });
});
