// classify/: HttpRequest → the IMDS version it uses (v1, v2_token, v2_get, other).

import type { HttpRequest } from '../http/request.js';

export type RequestKind = 'v1' | 'v2_token' | 'v2_get' | 'other';

export const TOKEN_PATH = '/latest/api/token';

/**
 * IMDSv2 is a token PUT followed by requests carrying the token header; a
 * GET/HEAD without the header is IMDSv1, the thing to find and fix.
 */
export function classifyRequest(request: HttpRequest): RequestKind {
  if (request.method === 'PUT' && request.path.replace(/\/+$/, '') === TOKEN_PATH) return 'v2_token';
  if (request.hasToken) return 'v2_get';
  if (request.method === 'GET' || request.method === 'HEAD') return 'v1';
  return 'other';
}
