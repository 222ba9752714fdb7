// IP address text: normalizeIp canonicalises (RFC 5952), and bytes round-trip through parse and format.

import { describe, expect, it } from 'vitest';
import { formatIpv6, normalizeIp, parseIpv6 } from '../../../src/decode/ip-address.js';

describe('normalizeIp', () => {
  it.each([
    ['169.254.169.254', '169.254.169.254'],
    ['FD00:EC2:0:0:0:0:0:254', 'fd00:ec2::254'],
    ['fd00:0ec2:0000::0254', 'fd00:ec2::254'],
    ['[::1]', '::1'],
    ['::ffff:169.254.169.254', '::ffff:169.254.169.254'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', '::ffff:169.254.169.254'],
    ['fe80::1%eth0', 'fe80::1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
    ['2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
    ['not an ip', 'not an ip'],
    ['1:2:3', '1:2:3'],
    ['256.1.1.1', '256.1.1.1'],
  ])('%s → %s', (input, out) => {
    expect(normalizeIp(input)).toBe(out);
  });

  it('round-trips through bytes', () => {
    const bytes = parseIpv6('2001:db8:0:0:1::');
    expect(bytes).toHaveLength(16);
    expect(formatIpv6(bytes ?? [])).toBe('2001:db8:0:0:1::');
  });
});
