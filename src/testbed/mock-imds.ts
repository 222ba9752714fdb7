// Mock IMDS HTTP server: token PUTs, v1/v2 GETs and a request log, in-process (tests) or in the IMDS netns.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  mergeMockImdsOptions,
  resolveMockImdsOptions,
  validateMockImdsPatch,
  type MockImdsOptions,
} from './mock-imds-options.js';
import { errorPage, resolveMetadataPath } from './mock-imds-routes.js';
import { parseTokenTtlSeconds, TokenStore, type TokenCheck } from './mock-imds-tokens.js';
import { scaledMs } from './time-scale.js';

/** Path of the IMDSv2 session-token endpoint. */
export const TOKEN_PATH = '/latest/api/token';
/** Request header carrying the token TTL on PUT, echoed on the answer. */
export const TOKEN_TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
/** Request header carrying the session token on GET. */
export const TOKEN_HEADER = 'x-aws-ec2-metadata-token';

/** How a request used IMDS: token PUT, IMDSv2 GET (with token), IMDSv1 GET (without), or anything else. */
export type MockImdsRequestKind = 'token' | 'v2' | 'v1' | 'other';

/** One request the mock answered, for test assertions. Never holds token values. */
export interface MockImdsRequestRecord {
  /** 1-based order of arrival. */
  seq: number;
  timeMs: number;
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  kind: MockImdsRequestKind;
  hadToken: boolean;
  /** 'none' when no token header was sent. */
  tokenCheck: TokenCheck | 'none';
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  userAgent: string | null;
}

/** Where to listen; port 0 picks a free one. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Seams for tests: the clock that tokens expire by. */
export interface MockImdsServerDeps {
  now?: () => number;
}

/** Oldest records are dropped beyond this many so a long demo does not grow without bound. */
const MAX_RECORDS = 10_000;

/**
 * An HTTP server that answers like EC2 IMDS: session tokens with TTLs, IMDSv1/v2 rules,
 * httpEndpoint/httpTokens settings and the common metadata paths. It does not enforce
 * the hop limit; the IMDS namespace does that with nft (see hop-limit-nft.ts).
 */
export class MockImdsServer {
  private current: MockImdsOptions;
  private readonly tokens: TokenStore;
  private readonly now: () => number;
  private readonly servers: Server[] = [];
  private readonly records: MockImdsRequestRecord[] = [];
  private seq = 0;

  /** Throws TestbedError when `options` has a bad field. */
  constructor(options: unknown = {}, deps: MockImdsServerDeps = {}) {
    this.current = resolveMockImdsOptions(options);
    this.now = deps.now ?? Date.now;
    this.tokens = new TokenStore(this.now);
  }

  /** A copy of the options in force. */
  get options(): MockImdsOptions {
    return structuredClone(this.current);
  }

  /** Validates and applies a change; returns the options now in force. Throws TestbedError. */
  setOptions(patch: unknown): MockImdsOptions {
    this.current = mergeMockImdsOptions(this.current, validateMockImdsPatch(patch));
    return this.options;
  }

  /** The requests answered so far, oldest first. */
  get requests(): MockImdsRequestRecord[] {
    return this.records.map((r) => ({ ...r }));
  }

  /** Forgets the request log (not the tokens). */
  clearRequests(): void {
    this.records.length = 0;
  }

  /** Starts one more listener; call once per address (e.g. the v4 and the v6 IMDS address). */
  async listen(address: ListenAddress): Promise<AddressInfo> {
    // Node's 5 s idle keep-alive timeout, stretched: in the kernel VMs an agent start outlasts it
    // and the keep-alive test's connection would be closed before the agent sees it reused.
    const server = createServer({ keepAliveTimeout: scaledMs(5_000) }, (req, res) => this.handle(req, res));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address.host, port: address.port, ipv6Only: address.host.includes(':') }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  /** Stops every listener and drops open keep-alive connections. */
  async close(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const method = req.method ?? '';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const tokenHeader = req.headers[TOKEN_HEADER];
    const token = typeof tokenHeader === 'string' && tokenHeader !== '' ? tokenHeader : undefined;
    const tokenCheck = token === undefined ? 'none' : this.tokens.check(token);
    const status = this.answer(req, res, method, path, tokenCheck);
    const kind = requestKind(method, path, token !== undefined);
    this.record(req, { method, path, status, kind, hadToken: token !== undefined, tokenCheck });
  }

  /** Writes the answer and returns its status. */
  private answer(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    tokenCheck: TokenCheck | 'none',
  ): number {
    const o = this.current;
    if (o.httpEndpoint === 'disabled') return send(res, 403, errorPage(403, 'Forbidden'));
    if (method === 'PUT') {
      if (path !== TOKEN_PATH) return send(res, 405, errorPage(405, 'Method Not Allowed'), { Allow: 'GET, HEAD' });
      // IMDS refuses token requests that went through a proxy (documented IMDSv2 defence).
      if (req.headers['x-forwarded-for'] !== undefined) return send(res, 403, errorPage(403, 'Forbidden'));
      if (o.refuseTokenPut !== null) return send(res, o.refuseTokenPut, errorPage(o.refuseTokenPut, 'Refused'));
      const ttlSeconds = parseTokenTtlSeconds(req.headers[TOKEN_TTL_HEADER]);
      if (ttlSeconds === undefined) return send(res, 400, errorPage(400, 'Missing or Invalid Parameters'));
      const issued = this.tokens.issue(ttlSeconds, o.fixedToken);
      return send(res, 200, issued, { [TOKEN_TTL_HEADER]: String(ttlSeconds) });
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return send(res, 405, errorPage(405, 'Method Not Allowed'), { Allow: 'GET, HEAD, PUT' });
    }
    if (tokenCheck === 'expired' || tokenCheck === 'unknown') return send(res, 401, errorPage(401, 'Unauthorized'));
    if (tokenCheck === 'none' && o.httpTokens === 'required') return send(res, 401, errorPage(401, 'Unauthorized'));
    const route = resolveMetadataPath(path, o, this.now());
    return send(res, route.status, route.body);
  }

  private record(
    req: IncomingMessage,
    fields: Pick<MockImdsRequestRecord, 'method' | 'path' | 'status' | 'kind' | 'hadToken' | 'tokenCheck'>,
  ): void {
    const userAgent = req.headers['user-agent'];
    this.records.push({
      seq: ++this.seq,
      timeMs: this.now(),
      ...fields,
      remoteAddress: req.socket.remoteAddress ?? '',
      remotePort: req.socket.remotePort ?? 0,
      localAddress: req.socket.localAddress ?? '',
      localPort: req.socket.localPort ?? 0,
      userAgent: typeof userAgent === 'string' ? userAgent : null,
    });
    if (this.records.length > MAX_RECORDS) this.records.shift();
  }
}

function requestKind(method: string, path: string, hadToken: boolean): MockImdsRequestKind {
  if (method === 'PUT' && path === TOKEN_PATH) return 'token';
  if (method !== 'GET' && method !== 'HEAD') return 'other';
  return hadToken ? 'v2' : 'v1';
}

/** Sends a text/plain answer the way IMDS does (Server: EC2ws) and returns the status. */
function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): number {
  res.writeHead(status, {
    'Content-Type': status === 200 ? 'text/plain' : 'text/html',
    'Content-Length': Buffer.byteLength(body),
    Server: 'EC2ws',
    ...headers,
  });
  res.end(body);
  return status;
}
