// capture/: the metadata service's endpoints — what the capture filters on and later stages call "the server".

/** An address and port, the address in canonical text (see decode/ip-address normalizeIp). */
export interface Endpoint {
  ip: string;
  port: number;
}

/** The instance metadata service: IPv4 link-local and the Nitro IPv6 address. */
export const IMDS_ENDPOINTS: readonly Endpoint[] = [
  { ip: '169.254.169.254', port: 80 },
  { ip: 'fd00:ec2::254', port: 80 },
];
