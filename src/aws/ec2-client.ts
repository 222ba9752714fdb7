// aws/: the EC2 API client of the control commands (standard SDK credential chain, retries on throttling).

import { EC2Client } from '@aws-sdk/client-ec2';
import type { AwsCredentialIdentityProvider } from './control-credentials.js';

/** EC2 calls per operation, first try included: throttled calls (RequestLimitExceeded) back off and retry. */
export const EC2_MAX_ATTEMPTS = 6;

/**
 * An EC2 client for `region` with `credentials` (see controlCredentials).
 * `endpointUrl` points it at a VPC endpoint or an emulator.
 */
export function createEc2Client(region: string, endpointUrl: string | null, credentials: AwsCredentialIdentityProvider): EC2Client {
  return new EC2Client({
    region,
    credentials,
    ...(endpointUrl === null ? {} : { endpoint: endpointUrl }),
    maxAttempts: EC2_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 },
  });
}
