// capture/: the metadata service's endpoints — what the capture filters on and later stages call "the server".

import { IMDS_IPV4, IMDS_IPV6, IMDS_PORT } from '../imds-endpoint.js';

/** An address and port, the address in canonical text (see decode/ip-address normalizeIp). */
export interface Endpoint {
  ip: string;
  port: number;
}

/** The instance metadata service: IPv4 link-local and the Nitro IPv6 address. */
export const IMDS_ENDPOINTS: readonly Endpoint[] = [
  { ip: IMDS_IPV4, port: IMDS_PORT },
  { ip: IMDS_IPV6, port: IMDS_PORT },
];
