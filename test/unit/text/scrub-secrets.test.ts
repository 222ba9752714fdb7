import { describe, expect, it } from 'vitest';
import { scrubSecrets } from '../../../src/text/scrub-secrets.js';

describe('scrubSecrets', () => {
  it.each([
    ['an IMDSv2 token anywhere', 'curl AQAEAGeQ3vJx0123456789abcdefABCDEF== x', 'curl [redacted] x'],
    ['a token header glued onto a value', 'curl?X-aws-ec2-metadata-token: whatever value here', 'curl?X-aws-ec2-metadata-token: [redacted]'],
    ['Authorization with its scheme', 'ua Authorization: Basic dXNlcjpwYXNz', 'ua Authorization: [redacted]'],
    ['a cookie', 'ua Cookie: a=b; c=d', 'ua Cookie: [redacted]'],
    ['a name=value secret', 'x Authorization=abc def', 'x Authorization=[redacted]'],
    ['an STS session token', 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVz', '[redacted]'],
    ['an access key id', 'key ASIAFIXTURECANARY000 end', 'key [redacted] end'],
    ['a secret access key shape', 'k=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'k=[redacted]'],
  ])('removes %s', (_name, input, expected) => {
    expect(scrubSecrets(input)).toBe(expected);
  });

  it.each([
    '/latest/meta-data/iam/security-credentials/my-role',
    'aws-sdk-js/3.1164.0 ua/2.1 os/linux#6.18 lang/js md/nodejs#20.20.2 api/imds#3.1164.0',
    'X-aws-ec2-metadata-token-ttl-seconds: 21600',
    '/usr/lib/jvm/java-17-openjdk-amd64/bin/java',
    '/latest/dynamic/instance-identity/document',
    'token-client',
  ])('leaves %s alone', (text) => {
    expect(scrubSecrets(text)).toBe(text);
  });
});
