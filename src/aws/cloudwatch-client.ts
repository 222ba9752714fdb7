// aws/: the CloudWatch client both the metrics sink (PutMetricData) and the control commands' reader use.

import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';

/**
 * A CloudWatch client from the standard SDK chain (credentials from the
 * environment, profile or instance role), with the configured region and
 * endpoint. The SDK's own retries are off by default: the publisher retries,
 * counts and gives up by itself so that a flush stays bounded. A reader (the
 * control commands' gate) asks for SDK retries and its own credentials.
 */
export function createCloudWatchClient(
  config: { region: string; endpointUrl: string | null },
  options: { maxAttempts?: number; credentials?: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date }> } = {},
): CloudWatchClient {
  return new CloudWatchClient({
    region: config.region,
    ...(config.endpointUrl === null ? {} : { endpoint: config.endpointUrl }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts: options.maxAttempts ?? 1,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
  });
}
