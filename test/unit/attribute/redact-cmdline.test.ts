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
