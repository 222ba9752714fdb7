// capture/: the BPF filter that keeps only metadata-service traffic (both directions).

import type { Endpoint } from '../tcp/connection-table.js';

/** The instance metadata service endpoints: IPv4 link-local and the Nitro IPv6 address. */
export const IMDS_ENDPOINTS: readonly Endpoint[] = [
  { ip: '169.254.169.254', port: 80 },
  { ip: 'fd00:ec2::254', port: 80 },
];

/** `(host A and tcp port P) or (host B and tcp port Q)` for libpcap. */
export function bpfFilterFor(endpoints: readonly Endpoint[]): string {
  return endpoints
    .map((e) => `(${e.ip.includes(':') ? 'ip6 ' : ''}host ${e.ip} and tcp port ${e.port})`)
    .join(' or ');
}
