// capture/: the BPF filter that keeps only metadata-service traffic (both directions).

import type { Endpoint } from './endpoints.js';

/** `(host A and tcp port P) or (host B and tcp port Q)` for libpcap. */
export function bpfFilterFor(endpoints: readonly Endpoint[]): string {
  return endpoints
    .map((e) => `(${e.ip.includes(':') ? 'ip6 ' : ''}host ${e.ip} and tcp port ${e.port})`)
    .join(' or ');
}
