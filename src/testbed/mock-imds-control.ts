// Typed client of the mock IMDS control socket, used by the testbed, `imds-sniff demo` and e2e tests.

import { request } from 'node:http';
import { TestbedError } from '../errors.js';
import type { MockImdsRequestRecord } from './mock-imds.js';
import type { MockImdsOptions, MockImdsOptionsPatch } from './mock-imds-options.js';

/** Talks to a running mock (child process or in-process control server) over its Unix socket. */
export class MockImdsControl {
  /** @param socketPath the `--control` path the mock listens on. */
  constructor(readonly socketPath: string) {}

  /** The options in force. */
  getOptions(): Promise<MockImdsOptions> {
    return this.call<MockImdsOptions>('GET', '/options');
  }

  /**
   * Changes options and resolves with the result once they apply, including the
   * hop-limit nft rules. Rejects with TestbedError on a bad patch.
   */
  setOptions(patch: MockImdsOptionsPatch): Promise<MockImdsOptions> {
    return this.call<MockImdsOptions>('PUT', '/options', patch);
  }

  /** What the mock answered so far, oldest first. */
  requests(): Promise<MockImdsRequestRecord[]> {
    return this.call<MockImdsRequestRecord[]>('GET', '/requests');
  }

  /** Empties the request log. */
  async clearRequests(): Promise<void> {
    await this.call<unknown>('DELETE', '/requests');
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch (cause) {
              reject(new TestbedError(`mock IMDS control ${method} ${path}: not JSON`, { cause }));
              return;
            }
            if (res.statusCode === 200) {
              resolve(parsed as T);
            } else {
              const message = (parsed as { error?: unknown }).error;
              reject(new TestbedError(`mock IMDS control ${method} ${path}: ${String(message ?? res.statusCode)}`));
            }
          });
        },
      );
      req.on('error', (cause) => reject(new TestbedError(`mock IMDS control socket ${this.socketPath}: ${cause.message}`, { cause })));
      req.end(payload);
    });
  }
}
