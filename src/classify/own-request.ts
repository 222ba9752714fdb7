// classify/: recognises the User-Agent of imds-sniff's own IMDS requests (the control commands run as separate processes).

import type { HttpRequest } from '../http/request.js';

/**
 * User-Agent of every IMDS request imds-sniff makes itself: identity, role
 * credentials of the control commands, and their verification probes (a
 * token-less GET on purpose, to see the 401). A running agent must count none
 * of them as the workload's, or `status` would list imds-sniff and the next
 * `enforce` would refuse. The daemon's own calls are also known by pid and port.
 */
export const OWN_USER_AGENT = 'imds-sniff-own/1';

/**
 * True when the request carries imds-sniff's User-Agent. Anyone can send it (`curl -A`),
 * so it makes a request `own` only together with the sender being imds-sniff (attribute/own-program.ts).
 */
export function hasOwnUserAgent(request: Pick<HttpRequest, 'userAgent'>): boolean {
  return request.userAgent === OWN_USER_AGENT;
}
