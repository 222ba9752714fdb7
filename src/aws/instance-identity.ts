// aws/: this instance's id from IMDS, asked the IMDSv2 way (token PUT, then GET); the agent's own call.

import { imdsCall } from './imds-http.js';

/**
 * The instance id, or null off EC2 / when IMDS does not answer within
 * `timeoutMs`. Uses IMDSv2 only; the token stays in this function's scope and
 * is never logged. The source ports used are added to `ownPorts`.
 */
export async function fetchInstanceId(timeoutMs: number, ownPorts: Set<number>): Promise<string | null> {
  const own = (port: number): void => {
    ownPorts.add(port);
  };
  try {
    const token = await imdsCall('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' }, timeoutMs, own);
    if (token.status !== 200 || token.body === '') return null;
    const id = await imdsCall('GET', '/latest/meta-data/instance-id', { 'X-aws-ec2-metadata-token': token.body }, timeoutMs, own);
    return id.status === 200 && /^i-[0-9a-f]{8,32}$/.test(id.body.trim()) ? id.body.trim() : null;
  } catch {
    return null;
  }
}
