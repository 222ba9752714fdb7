// aws/: the EC2 API client of the control commands (standard SDK credential chain, retries on throttling).

import { EC2Client } from '@aws-sdk/client-ec2';

/** EC2 calls per operation, first try included: throttled calls (RequestLimitExceeded) back off and retry. */
export const EC2_MAX_ATTEMPTS = 6;

/**
 * An EC2 client for `region`. Credentials come from the standard chain
 * (environment, profile, instance role through IMDSv2). `endpointUrl` points
 * it at a VPC endpoint or an emulator.
 */
export function createEc2Client(region: string, endpointUrl: string | null): EC2Client {
  return new EC2Client({
    region,
    ...(endpointUrl === null ? {} : { endpoint: endpointUrl }),
    maxAttempts: EC2_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 },
  });
}
