// aws/: after a change, checks on this host what IMDS now answers to a token-less GET and to an IMDSv2 GET.

import type { MetadataSettings } from './instance-metadata-options.js';
import { IMDS_ENDPOINT, imdsCall, type ImdsEndpoint } from './imds-http.js';

const PATH = '/latest/meta-data/instance-id';
const TOKEN_TTL_SECONDS = '60';

/** What IMDS answered; null status: no answer (timeout, refused). */
export interface VerifyResult {
  ok: boolean;
  /** Token-less GET (IMDSv1). */
  v1: { expected: number; status: number | null };
  /** Token PUT then GET with the token (IMDSv2); the token itself is never kept or shown. */
  v2: { expected: number; status: number | null };
  waited_ms: number;
}

/** The answers that prove `options` are in force: 401 / 200 when tokens are required, 403 everywhere when disabled. */
export function expectedAnswers(options: Pick<MetadataSettings, 'httpTokens' | 'httpEndpoint'>): { v1: number; v2: number } {
  if (options.httpEndpoint === 'disabled') return { v1: 403, v2: 403 };
  return { v1: options.httpTokens === 'required' ? 401 : 200, v2: 200 };
}

async function status(call: Promise<{ status: number }>): Promise<number | null> {
  try {
    return (await call).status;
  } catch {
    return null;
  }
}

/** One round: a token-less GET, then a token PUT and (when it gave a token) a GET with it. */
async function probe(endpoint: ImdsEndpoint, timeoutMs: number): Promise<{ v1: number | null; v2: number | null }> {
  const v1 = await status(imdsCall('GET', PATH, {}, timeoutMs, undefined, endpoint));
  let v2: number | null = null;
  try {
    const token = await imdsCall('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS }, timeoutMs, undefined, endpoint);
    v2 = token.status !== 200 ? token.status : token.body === '' ? null : await status(imdsCall('GET', PATH, { 'X-aws-ec2-metadata-token': token.body }, timeoutMs, undefined, endpoint));
  } catch {
    v2 = null;
  }
  return { v1, v2 };
}

/**
 * Probes IMDS until both answers match `options` or `timeoutMs` passes (EC2
 * says `applied` a moment before every host path has it). Never throws.
 */
export async function verifyOnHost(
  options: Pick<MetadataSettings, 'httpTokens' | 'httpEndpoint'>,
  timeoutMs: number,
  endpoint: ImdsEndpoint = IMDS_ENDPOINT,
  pollMs = 500,
): Promise<VerifyResult> {
  const expected = expectedAnswers(options);
  const started = Date.now();
  for (;;) {
    const got = await probe(endpoint, 2_000);
    const waitedMs = Date.now() - started;
    const ok = got.v1 === expected.v1 && got.v2 === expected.v2;
    if (ok || waitedMs >= timeoutMs) return { ok, v1: { expected: expected.v1, status: got.v1 }, v2: { expected: expected.v2, status: got.v2 }, waited_ms: waitedMs };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
