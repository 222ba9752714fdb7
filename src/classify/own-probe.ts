// classify/: recognises imds-sniff's own verification probes (`enforce` / `rollback` check IMDS after a change).

import type { HttpRequest } from '../http/request.js';

/**
 * User-Agent prefix of the control commands' verification requests. They send
 * a token-less GET on purpose (to see the 401), and a running agent must not
 * count that as an IMDSv1 caller, or the next `enforce` would refuse.
 */
export const OWN_PROBE_USER_AGENT = 'imds-sniff-verify/1';

/** True for a request sent by `imds-sniff enforce|rollback` to verify IMDS. */
export function isOwnProbe(request: Pick<HttpRequest, 'userAgent'>): boolean {
  return request.userAgent === OWN_PROBE_USER_AGENT;
}
