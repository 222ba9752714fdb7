// capture/: the BPF filter that keeps only metadata-service traffic (both directions).

import type { Endpoint } from './endpoints.js';

/** `(host A and tcp port P) or (host B and tcp port Q)` for libpcap. */
export function bpfFilterFor(endpoints: readonly Endpoint[]): string {
  return endpoints
    .map((e) => `(${e.ip.includes(':') ? 'ip6 ' : ''}host ${e.ip} and tcp port ${e.port})`)
    .join(' or ');
}

/**
 * The live filter: {@link bpfFilterFor}, less the segments the pipeline has no use for —
 * pure ACKs and window updates (no payload, no SYN, FIN or RST), about 40 % of an IMDS
 * exchange's frames — so they never leave the kernel. IPv6 packets with extension headers
 * (the TCP header not at offset 40) are all kept.
 */
export function liveBpfFilterFor(endpoints: readonly Endpoint[]): string {
  return endpoints
    .map((e) =>
      e.ip.includes(':')
        ? `(ip6 host ${e.ip} and tcp port ${e.port} and (ip6[6] != 6 or ip6[53] & 7 != 0 or ip6[4:2] - ((ip6[52] & 0xf0) >> 2) != 0))`
        : `(host ${e.ip} and tcp port ${e.port} and (tcp[13] & 7 != 0 or ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2) != 0))`,
    )
    .join(' or ');
}
