// aws/: the agent's own IMDS client — IMDSv2 only, token cached until shortly before it expires.

import { IMDS_ENDPOINT, imdsCall, type ImdsEndpoint } from './imds-http.js';

const TOKEN_TTL_SECONDS = 21_600;
/** Renew this long before the token expires. */
const RENEW_MARGIN_MS = 60_000;

/**
 * Asks IMDS the IMDSv2 way. The token lives only in this object (never
 * logged); the source ports of every call are added to `ownPorts` so the
 * capture marks them as the agent's own.
 */
export class ImdsClient {
  private token: { value: string; expiresAtMs: number } | null = null;

  constructor(
    private readonly timeoutMs: number,
    private readonly ownPorts: Set<number>,
    private readonly now: () => number = Date.now,
    private readonly endpoint: ImdsEndpoint = IMDS_ENDPOINT,
  ) {}

  private own = (port: number): void => {
    this.ownPorts.add(port);
  };

  private async freshToken(): Promise<string> {
    if (this.token && this.now() < this.token.expiresAtMs - RENEW_MARGIN_MS) return this.token.value;
    const answer = await imdsCall('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) }, this.timeoutMs, this.own, this.endpoint);
    if (answer.status !== 200 || answer.body === '') throw new Error(`token request answered ${answer.status}`);
    this.token = { value: answer.body, expiresAtMs: this.now() + TOKEN_TTL_SECONDS * 1000 };
    return this.token.value;
  }

  /** The text at `path`, or null when IMDS says 404. Throws when IMDS cannot be reached or refuses. */
  async get(path: string): Promise<string | null> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await imdsCall('GET', path, { 'X-aws-ec2-metadata-token': await this.freshToken() }, this.timeoutMs, this.own, this.endpoint);
      if (answer.status === 200) return answer.body;
      if (answer.status === 404) return null;
      if (answer.status === 401) {
        this.token = null; // expired or revoked: one fresh token, then give up
        continue;
      }
      throw new Error(`GET ${path} answered ${answer.status}`);
    }
    throw new Error(`GET ${path} refused the token`);
  }
}
