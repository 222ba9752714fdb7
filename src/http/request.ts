// http/: client bytes → HttpRequest (method, path, the IMDS headers that matter; never a token value).

import { scrubSecrets } from '../text/scrub-secrets.js';
import { DEFAULT_HTTP_LIMITS, framingFromHeaders, headerValue, HttpMessageStream, type HttpLimits, type RawHead } from './message-stream.js';

/** Header that carries an IMDSv2 session token. Its value never leaves http/. */
export const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
/** Header of a token PUT asking for a token lifetime. */
export const TOKEN_TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';

const MAX_PATH_LENGTH = 512;
const MAX_USER_AGENT_LENGTH = 256;

/** One parsed request. Holds no secret: the token header is reduced to its presence. */
export interface HttpRequest {
  method: string;
  /** Path without query string or fragment; origin-form even when sent in absolute form. */
  path: string;
  httpVersion: string;
  /** An `X-aws-ec2-metadata-token` header with a non-empty value was sent. */
  hasToken: boolean;
  /** Value of `X-aws-ec2-metadata-token-ttl-seconds` (a lifetime, not a secret), when sent. */
  tokenTtlSeconds: string | null;
  userAgent: string | null;
  /** `X-Forwarded-For` was sent (IMDS refuses token PUTs that carry it). */
  forwarded: boolean;
}

/** Printable ASCII only, bounded: request fields and names from /proc end up in logs and terminals. */
export function sanitizeText(text: string, maxLength: number): string {
  const clean = (text.length > maxLength ? text.slice(0, maxLength) : text).replace(/[^\x20-\x7e]/g, '?');
  return text.length > maxLength ? `${clean}…` : clean;
}

/**
 * A header value up to its first byte outside printable ASCII: where a server ends
 * (or rejects) the line; what follows, in a damaged or hostile head, may be the
 * next header, token included.
 */
function headerText(value: string): string {
  const cut = value.search(/[^\x20-\x7e\t]/);
  return cut < 0 ? value : value.slice(0, cut);
}

/** What `path` says for a request-target that is neither origin nor absolute form (nothing of it is shown: it may hold credentials). */
export const INVALID_TARGET = '[not a path]';

/**
 * The path of a request-target in origin or absolute form (RFC 9112 §3.2). The
 * authority of an absolute-form target (`//user:pass@host`), even one whose scheme
 * is damaged, is never part of the path; a target in neither form (authority form,
 * or garbage) is not shown at all.
 */
export function pathOfTarget(target: string): string {
  let path = target;
  if (!target.startsWith('/')) {
    const authority = /^[^/]*\/\/[^/]*(.*)$/.exec(target);
    if (authority) path = authority[1] || '/';
    else return target === '*' ? '*' : INVALID_TARGET;
  }
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  return scrubSecrets(sanitizeText(path, MAX_PATH_LENGTH), 'wire');
}

function toRequest(head: RawHead): HttpRequest | string {
  const parts = head.startLine.trim().split(/[ \t]+/);
  if (parts.length !== 3) return 'bad_request_line';
  const [method, target, version] = parts as [string, string, string];
  if (!/^[A-Z]{1,16}$/.test(method)) return 'bad_method';
  const versionMatch = /^HTTP\/(1\.[01])$/.exec(version);
  if (!versionMatch) return 'bad_http_version';
  const token = headerValue(head, TOKEN_HEADER);
  const ttl = headerValue(head, TOKEN_TTL_HEADER);
  const userAgent = headerValue(head, 'user-agent');
  return {
    method,
    path: pathOfTarget(target),
    httpVersion: versionMatch[1] as string,
    hasToken: token !== undefined && token !== '[redacted:0]',
    tokenTtlSeconds: ttl === undefined ? null : sanitizeText(ttl, 16),
    userAgent: userAgent === undefined ? null : scrubSecrets(sanitizeText(headerText(userAgent), MAX_USER_AGENT_LENGTH), 'wire'),
    forwarded: headerValue(head, 'x-forwarded-for') !== undefined,
  };
}

/** Incremental parser of a client's byte stream into requests (keep-alive and pipelining). */
export class RequestParser {
  private readonly stream: HttpMessageStream;
  private pending: HttpRequest[] = [];
  private lastError: string | null = null;

  constructor(limits: HttpLimits = DEFAULT_HTTP_LIMITS) {
    this.stream = new HttpMessageStream(
      limits,
      (head) => {
        const request = toRequest(head);
        if (typeof request === 'string') return request;
        this.pending.push(request);
        // A request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3 rule 7).
        return framingFromHeaders(head, { kind: 'none' });
      },
      new Set([TOKEN_HEADER, 'authorization', 'cookie', 'proxy-authorization']),
    );
  }

  /** A request head has begun and not ended: when the connection closes now, that request is lost. */
  get inHead(): boolean {
    return this.stream.inHead;
  }

  /** Feeds bytes; returns the requests whose heads completed, and an error once the stream is not HTTP. */
  push(bytes: Uint8Array): { requests: HttpRequest[]; error: string | null } {
    const result = this.stream.push(bytes);
    const requests = this.pending;
    this.pending = [];
    const error = result.error !== this.lastError ? result.error : null;
    this.lastError = result.error;
    return { requests, error };
  }
}
