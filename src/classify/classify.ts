// classify/: HttpRequest → the IMDS version it uses (v1, v2_token, v2_get), another cloud's probe (foreign_probe), or other.

import type { HttpRequest } from '../http/request.js';
import { foreignProbeCloud, type ProbeCloud } from './foreign-probe.js';

export type RequestKind = 'v1' | 'v2_token' | 'v2_get' | 'foreign_probe' | 'other';

export const TOKEN_PATH = '/latest/api/token';

/**
 * IMDSv2 is a token PUT followed by requests carrying the token header; a
 * GET/HEAD without the header is IMDSv1, the thing to find and fix. A request
 * without the header for another cloud's metadata path (foreign-probe.ts) is a
 * `foreign_probe`: a library checking which cloud it runs on, which AWS
 * answers 404 (401 once tokens are required) and which does not use IMDSv1.
 */
export function classifyRequest(request: HttpRequest): RequestKind {
  if (request.method === 'PUT' && request.path.replace(/\/+$/, '') === TOKEN_PATH) return 'v2_token';
  if (request.hasToken) return 'v2_get';
  if (foreignProbeCloud(request.path) !== null) return 'foreign_probe';
  if (request.method === 'GET' || request.method === 'HEAD') return 'v1';
  return 'other';
}

/** The cloud of a `foreign_probe` request (event field `probe_cloud`); null for every other kind. */
export function probeCloudOf(request: HttpRequest, kind: RequestKind): ProbeCloud | null {
  return kind === 'foreign_probe' ? foreignProbeCloud(request.path) : null;
}
