// aws/: turns AWS SDK failures into one-line, actionable AwsApiErrors (credentials, IAM, throttling, not found).

import { AwsApiError, type CodeOf } from '../errors.js';

/** Each API action imds-sniff calls, with the error code its failure has (errors.ts registers them). */
const ACTION_CODES = {
  DescribeInstances: 'ERR_AWS_DESCRIBE_INSTANCES',
  ModifyInstanceMetadataOptions: 'ERR_AWS_MODIFY_INSTANCE_METADATA_OPTIONS',
  DescribeLaunchTemplates: 'ERR_AWS_DESCRIBE_LAUNCH_TEMPLATES',
  DescribeLaunchTemplateVersions: 'ERR_AWS_DESCRIBE_LAUNCH_TEMPLATE_VERSIONS',
  CreateLaunchTemplateVersion: 'ERR_AWS_CREATE_LAUNCH_TEMPLATE_VERSION',
  ModifyLaunchTemplate: 'ERR_AWS_MODIFY_LAUNCH_TEMPLATE',
  ListMetrics: 'ERR_AWS_LIST_METRICS',
  GetMetricData: 'ERR_AWS_GET_METRIC_DATA',
  GetCallerIdentity: 'ERR_AWS_GET_CALLER_IDENTITY',
  ListAccounts: 'ERR_AWS_LIST_ACCOUNTS',
  DescribeRegions: 'ERR_AWS_DESCRIBE_REGIONS',
} as const satisfies Record<string, CodeOf<'AwsApiError'>>;

export type AwsAction = keyof typeof ACTION_CODES;

/** What the operator was trying to do, for the message: the API action and the IAM action it needs. */
export interface AwsCallContext {
  /** API action, e.g. `ModifyInstanceMetadataOptions`. */
  action: AwsAction;
  /** The IAM actions a policy must allow for this command to work. */
  iamActions: readonly string[];
  /** The resource it acted on, e.g. the instance id. */
  resource?: string;
  region: string;
}

const AUTH_CODES = new Set(['UnauthorizedOperation', 'AccessDenied', 'AccessDeniedException', 'AuthFailure']);
const THROTTLE_CODES = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException']);
const CREDENTIAL_CODES = new Set(['CredentialsProviderError', 'InvalidClientTokenId', 'UnrecognizedClientException', 'ExpiredToken', 'ExpiredTokenException']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'TimeoutError', 'RequestTimeout']);

/** The AWS error code of an SDK error (its name), or a Node network error code. */
export function awsErrorCode(error: unknown): string {
  const e = error as { name?: unknown; code?: unknown; Code?: unknown };
  if (typeof e?.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  if (typeof e?.Code === 'string') return e.Code;
  return typeof e?.name === 'string' ? e.name : 'Error';
}

/** The first line of an AWS message, without EC2's encoded authorization blob (long and not for a terminal). */
function shortMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').replace(/ Encoded authorization failure message: \S+/, '').slice(0, 300);
}

/** An AwsApiError for a failed call, with a hint that says what to do. */
export function toAwsApiError(error: unknown, context: AwsCallContext): AwsApiError {
  const code = awsErrorCode(error);
  const what = `${context.action}${context.resource ? ` on ${context.resource}` : ''} in ${context.region}`;
  const errorCode = ACTION_CODES[context.action];
  if (AUTH_CODES.has(code)) {
    return new AwsApiError(errorCode, `${what}: not authorized (${code})`, {
      hint: `the caller's IAM policy must allow ${context.iamActions.join(', ')}`,
      cause: error,
    });
  }
  if (THROTTLE_CODES.has(code)) {
    return new AwsApiError(errorCode, `${what}: throttled by AWS (${code}), still after retries`, {
      hint: 'run it again in a minute; across a fleet, lower the SSM concurrency',
      cause: error,
    });
  }
  if (CREDENTIAL_CODES.has(code) || /credential/i.test(code)) {
    return new AwsApiError('ERR_AWS_CREDENTIALS', `${what}: no usable AWS credentials (${shortMessage(error)})`, {
      hint: 'attach an instance profile to the instance, or set AWS_PROFILE / AWS_ACCESS_KEY_ID for the command',
      cause: error,
    });
  }
  if (NETWORK_CODES.has(code)) {
    return new AwsApiError(errorCode, `${what}: cannot reach the AWS endpoint (${code})`, {
      hint: 'check the route or proxy to the EC2/CloudWatch endpoint (or --endpoint-url)',
      cause: error,
    });
  }
  if (code === 'InvalidInstanceID.NotFound' || code === 'InvalidInstanceID.Malformed') {
    return new AwsApiError('ERR_AWS_INSTANCE_NOT_FOUND', `instance ${context.resource ?? ''} not found in ${context.region} (${code})`, {
      hint: 'check --instance-id and --region',
      cause: error,
    });
  }
  if (/^InvalidLaunchTemplate(Id|Name)\./.test(code)) {
    return new AwsApiError('ERR_AWS_LAUNCH_TEMPLATE_NOT_FOUND', `launch template ${context.resource ?? ''} not found in ${context.region} (${code})`, {
      hint: 'check --launch-template and --region',
      cause: error,
    });
  }
  return new AwsApiError(errorCode, `${what} failed: ${code}: ${shortMessage(error)}`, { cause: error });
}

/** Runs one AWS call and maps its failure to an AwsApiError. */
export async function awsCall<T>(context: AwsCallContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toAwsApiError(error, context);
  }
}

/** The SDK error behind an AwsApiError (or the error itself). */
function rootCause(error: unknown): unknown {
  return error instanceof AwsApiError && error.cause !== undefined ? error.cause : error;
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** How many times the SDK sent the call (it sets this on the error its retries end with). */
function attempts(error: unknown): number {
  return (error as { $metadata?: { attempts?: number } })?.$metadata?.attempts ?? 1;
}

/** Network failures where the request never left this host. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** A failure worth asking again about (throttling, a 5xx, the network): not an answer about the request. */
export function isTransientAwsError(error: unknown): boolean {
  const cause = rootCause(error);
  const code = awsErrorCode(cause);
  return THROTTLE_CODES.has(code) || NETWORK_CODES.has(code) || (httpStatus(cause) ?? 0) >= 500;
}

/**
 * True when a failed change call may still have been carried out: a request
 * was sent but no answer came (timeout, reset) or the answer was a 5xx, on
 * the last attempt or (the error says only how the last one ended) on any
 * attempt before it. A single refusal (IAM, throttling, bad parameter) and a
 * connection that never opened, on the only attempt, are definite: nothing changed.
 */
export function outcomeUnknown(error: unknown): boolean {
  const cause = rootCause(error);
  const code = awsErrorCode(cause);
  if (attempts(cause) > 1) return true;
  if (NOT_SENT_CODES.has(code)) return false;
  // EC2 answers throttling with a 503, but it is a refusal: nothing was done.
  if (THROTTLE_CODES.has(code)) return false;
  if (NETWORK_CODES.has(code)) return true;
  // No HTTP status and no network code: it failed before sending (credentials, validation).
  return (httpStatus(cause) ?? 0) >= 500;
}

/** True when an EC2 DryRun call said the real call would have been allowed. */
export function isDryRunSuccess(error: unknown): boolean {
  return awsErrorCode(error) === 'DryRunOperation';
}

/** A DryRun call that succeeded for real: the endpoint ignored DryRun, so something may have changed. */
export function dryRunIgnored(action: string, resource: string): AwsApiError {
  return new AwsApiError('ERR_AWS_DRY_RUN_IGNORED', `${action} on ${resource}: the endpoint ignored DryRun and may have changed it`, {
    hint: 'check it with imds-sniff status (or describe the launch template); real EC2 answers DryRunOperation',
  });
}
