// Control channel of the mock IMDS: HTTP over a Unix socket (reachable from any netns) for options and the request log.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rm } from 'node:fs/promises';
import { TestbedError } from '../errors.js';
import type { MockImdsServer } from './mock-imds.js';
import { validateMockImdsPatch, type MockImdsOptions, type MockImdsOptionsPatch } from './mock-imds-options.js';

/** Called before a hop-limit change takes effect; throwing keeps the old options. */
export type HopLimitHook = (hopLimit: number) => Promise<void>;

/** Called with the options in force after every applied change (e.g. to start or stop following EC2). */
export type OptionsAppliedHook = (options: MockImdsOptions) => void;

/** Largest options document accepted, to keep a bad client from filling memory. */
const MAX_BODY_BYTES = 1 << 20;

/**
 * Serves, on `socketPath`:
 * GET /options, PUT /options (JSON patch → full options), GET /requests, DELETE /requests.
 * Errors answer `{ "error": "<message>" }` with 400 (bad patch) or 500.
 */
export class MockImdsControlServer {
  private server: Server | undefined;
  /** Option changes run one at a time so a hop-limit rule and the options never disagree. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly mock: MockImdsServer,
    private readonly onHopLimitChange: HopLimitHook | undefined,
    private readonly onApplied?: OptionsAppliedHook,
  ) {}

  /**
   * Applies a validated patch as PUT /options does: queued behind earlier changes, the
   * hop-limit hook first. In-process sources of changes (plug-ins such as the tests' EC2 follower) use this too.
   */
  applyOptions(patch: MockImdsOptionsPatch): Promise<MockImdsOptions> {
    const applied = this.queue.then(() => this.applyPatch(patch));
    this.queue = applied.catch(() => undefined);
    return applied;
  }

  /** Listens on the Unix socket, replacing a stale socket file from a crashed run. */
  async listen(socketPath: string): Promise<void> {
    await rm(socketPath, { force: true });
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => sendJson(res, 500, { error: String(error) }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = `${req.method ?? ''} ${(req.url ?? '').split('?')[0] ?? ''}`;
    switch (route) {
      case 'GET /options':
        return sendJson(res, 200, this.mock.options);
      case 'PUT /options': {
        let patch;
        try {
          patch = validateMockImdsPatch(JSON.parse((await readBody(req)).toString('utf8')));
        } catch (error) {
          return sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
        }
        return sendJson(res, 200, await this.applyOptions(patch));
      }
      case 'GET /requests':
        return sendJson(res, 200, this.mock.requests);
      case 'DELETE /requests':
        this.mock.clearRequests();
        return sendJson(res, 200, {});
      default:
        return sendJson(res, 404, { error: `no control route ${route}` });
    }
  }

  private async applyPatch(patch: MockImdsOptionsPatch): Promise<MockImdsOptions> {
    if (patch.hopLimit !== undefined && patch.hopLimit !== this.mock.options.hopLimit) {
      await this.onHopLimitChange?.(patch.hopLimit);
    }
    const options = this.mock.setOptions(patch);
    this.onApplied?.(options);
    return options;
  }
}

/**
 * A request body, at most `maxBytes` (1 MiB by default): the control server and
 * the test proxies read bodies from clients they do not trust.
 */
export async function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new TestbedError('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
