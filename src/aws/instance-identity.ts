// aws/: this instance's id from IMDS, asked the IMDSv2 way (token PUT, then GET); the agent's own call.

import { request } from 'node:http';

const IMDS_HOST = '169.254.169.254';

function call(method: 'PUT' | 'GET', path: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: IMDS_HOST, port: 80, method, path, headers, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 4096) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * The instance id, or null off EC2 / when IMDS does not answer within
 * `timeoutMs`. Uses IMDSv2 only; the token is kept in this function's scope and
 * never logged.
 */
export async function fetchInstanceId(timeoutMs = 1000): Promise<string | null> {
  try {
    const token = await call('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' }, timeoutMs);
    if (token.status !== 200 || token.body === '') return null;
    const id = await call('GET', '/latest/meta-data/instance-id', { 'X-aws-ec2-metadata-token': token.body }, timeoutMs);
    return id.status === 200 && /^i-[0-9a-f]{8,32}$/.test(id.body.trim()) ? id.body.trim() : null;
  } catch {
    return null;
  }
}
