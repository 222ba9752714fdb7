import { describe, expect, it } from 'vitest';
import { scrubSecrets } from '../../../src/text/scrub-secrets.js';

describe('scrubSecrets (what follows the first secret found goes too)', () => {
  it.each([
    ['an IMDSv2 token anywhere', 'curl AQAEAGeQ3vJx0123456789abcdefABCDEF== x', 'curl [redacted]'],
    ['a token header glued onto a value', 'curl?X-aws-ec2-metadata-token: whatever value here', 'curl?X-aws-ec2-metadata-token: [redacted]'],
    ['Authorization with its scheme', 'ua Authorization: Basic dXNlcjpwYXNz', 'ua Authorization: [redacted]'],
    ['a cookie', 'ua Cookie: a=b; c=d', 'ua Cookie: [redacted]'],
    ['a name=value secret', 'x Authorization=abc def', 'x Authorization=[redacted]'],
    ['an STS session token', 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVz', '[redacted]'],
    ['an access key id', 'key ASIAFIXTURECANARY000 end', 'key [redacted]'],
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

describe('scrubSecrets on fields a damaged request polluted (found by the fuzz harness)', () => {
  it.each([
    ['a tab before the colon (shown as ?)', 'curl Authorization?: Bearer FuzzCanaryBearer9d8s7f6g', 'curl Authorization?: [redacted]'],
    ['a damaged name', 'x SecretAccessK?y=FuzzCa?e?/k9Jx2Lq7Wm4Rt8', 'x SecretAccessK?[redacted]'],
    ['a damaged token prefix', 'X-aws-ec2-metadata-token?: EQAEAFUZZCANARYTOKENq8Wz3Lr7', 'X-aws-ec2-metadata-token?: [redacted]'],
    ['a damaged separator', 'token?$AQAEAF\n4Vb&Hc1Jm5Ds0GyEaQuRi', 'token?$[redacted]'],
    ['userinfo of a target whose scheme was damaged', 'http?//fuzz:FuzzCanaryBasicPw@169.254.169.254/latest/meta-data/', 'http?//fuzz:[redacted]'],
    ['a random-looking key on its own', 'ua FuzzCanaryCookie3m4n5b6v7c8x9zAqWsEdRf end', 'ua [redacted]'],
  ])('%s', (_name, input, expected) => {
    expect(scrubSecrets(input)).toBe(expected);
  });

  it.each([
    '/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    '/latest/meta-data/public-keys/0/openssh-key',
    'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.2 cfg/retry-mode#legacy Botocore/1.34.0',
    '/usr/local/bin/token-refresher',
  ])('leaves %s alone', (text) => {
    expect(scrubSecrets(text)).toBe(text);
  });
});

describe('scrubSecrets on what was redacted already', () => {
  it.each(['X-aws-ec2-metadata-token: [redacted]', 'Authorization: [redacted]', '--token=[redacted]', "curl -H 'X-aws-ec2-metadata-token: [redacted]' http://169.254.169.254/"])(
    'leaves %s as it is',
    (text) => expect(scrubSecrets(text)).toBe(text),
  );
});

describe('scrubSecrets stays fast on hostile text (it runs in the capture callback)', () => {
  it.each(['token', 'Authorization?', 'secret=', 'AQAE', 'aB3+', 'x:y@', 'auth-key?'])('16 KiB of %j in well under a second', (word) => {
    const text = word.repeat(Math.ceil(16_384 / word.length));
    const started = process.hrtime.bigint();
    scrubSecrets(text);
    scrubSecrets(text, 'word');
    // Quadratic or worse rules took 5 s at 4 000 characters; linear ones take about a millisecond.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
  });
});

describe('scrubSecrets leaves what operators need (no secret there)', () => {
  it.each([
    '/latest/meta-data/iam/security-credentials/EC2RoleForAWSCodeDeployLimited2',
    '/latest/meta-data/iam/security-credentials/MyStack-WebServerInstanceRole3F8E2F42-1A2B3C4D5E6F',
    'public.ecr.aws/amazonlinux/amazonlinux:2023@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    '--authorization-mode=Webhook',
    '--auth-type=iam',
    '--signature-version=v4',
    '--token-file=/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
    'aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.amzn.2023 prompt/off command/sts.get-caller-identity',
    'aws-sdk-java/2.21.0 Linux/5.10.0 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy',
    'aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/imds#1.14.10',
    'amazon-ssm-agent/3.2.2016.0',
  ])('leaves %s alone', (text) => {
    expect(scrubSecrets(text)).toBe(text);
    expect(scrubSecrets(text, 'word')).toBe(text);
  });

  it('redacts only the word in a command line argument, and keeps the script', () => {
    const script = 'TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token) && curl -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/';
    expect(scrubSecrets(script, 'word')).toBe(
      'TOKEN=$([redacted] -s -X PUT http://169.254.169.254/latest/api/token) && curl -H "X-aws-ec2-metadata-token: $[redacted]" http://169.254.169.254/latest/meta-data/',
    );
  });
});

describe('scrubSecrets: what a first user tried', () => {
  it.each([
    ['a tab (shown as ?) right after the name', 'curl token?hunter2tokenvalue', 'curl token?[redacted]'],
    ['a URL-encoded separator', 'x secret%3Dhunter2', 'x secret%3D[redacted]'],
    ['a scheme word and a space', 'x PRIVATE-TOKEN hunter2abc', 'x PRIVATE-TOKEN [redacted]'],
    ['a bearer scheme', 'x Bearer hunter2abc', 'x Bearer [redacted]'],
    ['a JWT on its own', 'ua eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc123def456', 'ua [redacted]'],
    ['pw', 'x pw:hunter2', 'x pw:[redacted]'],
    ['pass', 'x pass=hunter2', 'x pass=[redacted]'],
    ['pwd', 'x pwd=hunter2', 'x pwd=[redacted]'],
  ])('%s', (_name, input, expected) => {
    expect(scrubSecrets(input)).toBe(expected);
  });

  it.each([
    ['a header glued onto a User-Agent with a damaged name', 'Boto3/1.34.0 Python/3.11; Cooki5: sid=FuzzCanary', 'Boto3/1.34.0 Python/3.11; Cooki5: [redacted]'],
    ['name=value glued onto a path', '/latest/api/to?en>sookie=FuzzCeNary', '/latest/api/to?en>sookie=[redacted]'],
    ['nothing glued: a real User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0', 'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0'],
  ])('on the wire: %s', (_name, input, expected) => {
    expect(scrubSecrets(input, 'wire')).toBe(expected);
  });

  it('redacts the value of --db-pass in a command line', () => {
    expect(scrubSecrets('--db-pass=hunter2', 'word')).toBe('--db-pass=[redacted]');
  });
});

describe('scrubSecrets: pieces of a damaged secret (found by the long fuzz run)', () => {
  it.each([
    ['a token tail ending in padding glued onto a path', '/??c1Jm5Ds0GyEaQuRiOpSd==', '/??[redacted]'],
    ['a token piece before a recognised one', 'curl/8.5.0 b6Hc1Jm5AQAEAFUZZCANARY', 'curl/8.5.0 [redacted]'],
    ['a password before @host with no // (a damaged scheme)', '/?6g5h4j3kFuzzPw@169.254.169.254/latest/', '[redacted]'],
    // seed 7, index 795024 of the 10^6 run: a bit flip put a quote inside the token, and its first byte too
    ['a token split by a damaged byte: the piece before it goes too', `/latest/meta-data/"?QAEAFUZZCANARYTOKENq8Wz3'r7Xk2Pf9Tn4Vb6Hc1Jm5Ds0GyEaQuRiOpSd==`, '/latest/meta-data/"?[redacted]'],
    ['two damaged bytes', 'x QAEAFUZZCANA"YTOKENq8?z3Lr7Xk2Pf9Tn4Vb6Hc1Jm5Ds0GyEaQuRiOpSd==', 'x [redacted]'],
    // seed 8 of the 10^6 run (stop 21): the tail of a key whose header name the framing lost
    ['index 58939: a bearer tail in a User-Agent', 'python-requests/2.31 95h4j3k2l1zXcVbNm', 'python-requests/2.31 [redacted]'],
    ['index 109207: a cookie tail after damaged bytes in a path', '/latest/api/??????????????????????????kie3m4n5b6v7c8x9zAqWsEdRf', '/latest/api/??????????????????????????[redacted]'],
    ['index 475592: the token header with a damaged name', 'curl/8.5.0; X-aws-ec2-metadata-toke ?: AQ:EAFUZZCANARYTOKE', 'curl/8.5.0; X-aws-ec2-metadata-toke ?: [redacted]'],
    ['index 481339: Proxy-Authorization with a damaged name', 'Boto3/1.34.0 Python/3.11 Proxy-Auth rizavion:!Basic0FezzjanaryProxy1q2v3e4r5t6y7', 'Boto3/1.34.0 Python/3.11 Proxy-Auth rizavion:[redacted]'],
    ['index 887740: a token whose fourth byte a bit flip changed (AQAE → AQAM)', 'AQAMAFUZZCANARYTOKENq8Wz3Lr7Xk', '[redacted]'],
    ['index 461086: a secret key after its name lost its separator', 'Boto3/1.34.0 Python/3.11 arySecret/k9Jx2Lq7Wm4Rt8Yp3Zs6Vb1N', 'Boto3/1.34.0 Python/3.11 arySecret/[redacted]'],
  ])('%s', (_name, input, expected) => {
    expect(scrubSecrets(input, 'wire')).toBe(expected);
  });

  it.each([
    'aws-sdk-js/3.1164.0 ua/2.1 os/linux#6.1.0-27-cloud-amd64 lang/js md/nodejs#20.19.0 api/ec2#3.1164.0 m/E,N,e',
    'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10.205-195.804.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.0',
    'aws-sdk-java/2.21.0 Linux/5.10.0 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy',
    'kubelet/v1.28.3 (linux/amd64) kubernetes/a8a1abc',
    'aws-node-termination-handler/v1.20.0',
    'datadog-agent/7.50.0',
    'Go-http-client/1.1',
    '/latest/meta-data/iam/security-credentials/MyStack-WebServerInstanceRole3F8E2F42-1A2B3C4D5E6F',
    '/latest/meta-data/iam/security-credentials/MyStack-WebRole3F8E2F42-1HX0Q3W2ZQ5PZ',
    '/latest/meta-data/iam/security-credentials/eksctl-prod-nodegroup-ng-1a2b3c-NodeInstanceRole-1ABCDEF2GHIJ',
    '/latest/meta-data/iam/security-credentials/AmazonSSMRoleForInstancesQuickSetup',
    '/latest/meta-data/iam/security-credentials/S3ReadOnlyEc2Role',
    '/latest/meta-data/iam/security-credentials/Ec2S3AccessRole',
    '/latest/meta-data/iam/security-credentials/MyRole2024ProdV2Ab',
    '/latest/meta-data/tags/instance/aws:cloudformation:logical-id',
    '/latest/api/token',
    'aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.amzn.2023 prompt/off command/sts.get-session-token',
    '/latest/meta-data/network/interfaces/macs/0a:1b:2c:3d:4e:5f/subnet-id',
    '/latest/meta-data/placement/availability-zone-id',
  ])('leaves a real User-Agent or path alone: %s', (text) => {
    expect(scrubSecrets(text, 'wire')).toBe(text);
  });
});
