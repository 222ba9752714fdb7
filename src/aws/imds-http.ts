// aws/: one HTTP call to the instance metadata service, bounded in time and size, for the agent's own use.

import { request } from 'node:http';
import { OWN_USER_AGENT } from '../classify/own-request.js';
import { IMDS_IPV4 } from '../imds-endpoint.js';

export const IMDS_HOST = IMDS_IPV4;

/** Where IMDS answers; tests point it at a mock on loopback. */
export interface ImdsEndpoint {
  host: string;
  port: number;
}
export const IMDS_ENDPOINT: ImdsEndpoint = { host: IMDS_HOST, port: 80 };
const MAX_BODY_BYTES = 4096;

export interface ImdsAnswer {
  status: number;
  body: string;
}

/**
 * One request to IMDS, with imds-sniff's own User-Agent (a running agent does
 * not count it as the workload's). `onLocalPort` learns the source port of the agent's own
 * connection, so the capture can mark it as the agent's even without attribution.
 */
export function imdsCall(
  method: 'PUT' | 'GET',
  path: string,
  headers: Record<string, string>,
  timeoutMs: number,
  onLocalPort: (port: number) => void = () => {},
  endpoint: ImdsEndpoint = IMDS_ENDPOINT,
): Promise<ImdsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: endpoint.host, port: endpoint.port, method, path, headers: { 'User-Agent': OWN_USER_AGENT, ...headers }, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('socket', (socket) => socket.once('connect', () => socket.localPort !== undefined && onLocalPort(socket.localPort)));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
