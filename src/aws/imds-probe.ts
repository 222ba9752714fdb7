// aws/: asks IMDS how it is configured (answers at all? tokens required?), for `doctor`.

import { imdsCall } from './imds-http.js';

export interface ImdsProbe {
  reachable: boolean;
  /** "optional" (IMDSv1 allowed), "required" (IMDSv2 only), "disabled", or null when unreachable. */
  mode: 'optional' | 'required' | 'disabled' | null;
  detail: string;
}

async function status(method: 'PUT' | 'GET', path: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  return (await imdsCall(method, path, headers, timeoutMs)).status;
}

/** Probes with one token PUT and one token-less GET (the GET is an IMDSv1 call by design). */
export async function probeImds(timeoutMs = 1000): Promise<ImdsProbe> {
  try {
    const put = await status('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' }, timeoutMs);
    const get = await status('GET', '/latest/meta-data/', {}, timeoutMs);
    if (put === 403 || get === 403) return { reachable: true, mode: 'disabled', detail: 'IMDS answers 403: the endpoint is disabled' };
    if (get === 401) return { reachable: true, mode: 'required', detail: 'IMDSv2 required (HttpTokens=required): IMDSv1 calls get 401' };
    if (get === 200) return { reachable: true, mode: 'optional', detail: 'IMDSv1 allowed (HttpTokens=optional)' };
    return { reachable: true, mode: null, detail: `unexpected answers: token PUT ${put}, GET ${get}` };
  } catch (error) {
    return { reachable: false, mode: null, detail: `no IMDS answer (${(error as Error).message}): not on EC2, or the endpoint is blocked` };
  }
}
