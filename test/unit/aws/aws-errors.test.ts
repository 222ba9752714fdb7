import { describe, expect, it } from 'vitest';
import { isTransientAwsError, outcomeUnknown, toAwsApiError, type AwsCallContext } from '../../../src/aws/aws-errors.js';
import { ExitCode } from '../../../src/errors.js';

const ctx: AwsCallContext = { action: 'ModifyInstanceMetadataOptions', iamActions: ['ec2:DescribeInstances', 'ec2:ModifyInstanceMetadataOptions'], resource: 'i-0123456789abcdef0', region: 'us-east-1' };
function sdkError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
}
const netError = (code: string): Error => Object.assign(new Error(`${code} x`), { code });

describe('toAwsApiError', () => {
  it.each([
    ['UnauthorizedOperation', 'You are not authorized to perform this operation. Encoded authorization failure message: AbCdEf123', /not authorized \(UnauthorizedOperation\)/, /ec2:DescribeInstances, ec2:ModifyInstanceMetadataOptions/],
    ['AccessDenied', 'User: arn:aws:iam::123456789012:user/x is not authorized', /not authorized \(AccessDenied\)/, /ec2:ModifyInstanceMetadataOptions/],
    ['RequestLimitExceeded', 'Request limit exceeded.', /throttled by AWS \(RequestLimitExceeded\), still after retries/, /run it again in a minute/],
    ['CredentialsProviderError', 'Could not load credentials from any providers', /no usable AWS credentials/, /instance profile/],
    ['InvalidInstanceID.NotFound', "The instance ID 'i-0123456789abcdef0' does not exist", /instance i-0123456789abcdef0 not found in us-east-1/, /--instance-id and --region/],
    ['InternalError', 'boom', /ModifyInstanceMetadataOptions on i-0123456789abcdef0 in us-east-1 failed: InternalError: boom/, undefined],
  ])('%s', (name, message, text, hint) => {
    const error = toAwsApiError(sdkError(name, message), ctx);
    expect(error.exitCode).toBe(ExitCode.AWS_API);
    expect(error.message).toMatch(text);
    expect(error.message).not.toContain('AbCdEf123');
    if (hint) expect(error.hint).toMatch(hint);
  });

  it('a refused connection names the endpoint problem', () => {
    const error = toAwsApiError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), ctx);
    expect(error.message).toMatch(/cannot reach the AWS endpoint \(ECONNREFUSED\)/);
    expect(error.code).toBe('ERR_AWS_MODIFY_INSTANCE_METADATA_OPTIONS');
  });
});

describe('isTransientAwsError / outcomeUnknown', () => {
  it.each([
    // error, worth asking again, the change may have happened
    ['RequestLimitExceeded 503 (as EC2 sends it)', sdkError('RequestLimitExceeded', 'slow down', 503), true, false],
    ['RequestLimitExceeded 400', sdkError('RequestLimitExceeded', 'slow down', 400), true, false],
    ['InternalError 500', sdkError('InternalError', 'boom', 500), true, true],
    ['UnauthorizedOperation 403', sdkError('UnauthorizedOperation', 'no', 403), false, false],
    ['InvalidParameterValue 400', sdkError('InvalidParameterValue', 'bad', 400), false, false],
    ['ECONNRESET (sent, no answer)', netError('ECONNRESET'), true, true],
    ['TimeoutError (sent, no answer)', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), true, true],
    ['ECONNREFUSED (never sent)', netError('ECONNREFUSED'), true, false],
    ['no credentials (never sent)', Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }), false, false],
    // The error tells how the last attempt ended only: an earlier one may have timed out after EC2 acted.
    ['RequestLimitExceeded after 6 attempts', Object.assign(sdkError('RequestLimitExceeded', 'slow down', 503), { $metadata: { httpStatusCode: 503, attempts: 6 } }), true, true],
    ['UnauthorizedOperation after a retried 500', Object.assign(sdkError('UnauthorizedOperation', 'no', 403), { $metadata: { httpStatusCode: 403, attempts: 2 } }), false, true],
    ['ECONNREFUSED after retries (an earlier attempt may have got through)', Object.assign(netError('ECONNREFUSED'), { $metadata: { attempts: 6 } }), true, true],
  ])('%s', (_n, raw, transient, unknown) => {
    // Both the SDK error and the AwsApiError made of it answer the same.
    for (const error of [raw, toAwsApiError(raw, ctx)]) {
      expect(isTransientAwsError(error)).toBe(transient);
      expect(outcomeUnknown(error)).toBe(unknown);
    }
  });
});
