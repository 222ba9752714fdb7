// Bottom floor: the instance metadata service's addresses and port, written once for capture, aws and the testbed.

/** IPv4 link-local address of IMDS. */
export const IMDS_IPV4 = '169.254.169.254';

/** IPv6 address of IMDS on Nitro instances (canonical text, RFC 5952). */
export const IMDS_IPV6 = 'fd00:ec2::254';

/** IMDS answers plain HTTP on this port, on both addresses. */
export const IMDS_PORT = 80;
