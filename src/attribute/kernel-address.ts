// attribute/: kernel address forms (/proc/net/tcp hex words, tracepoint u32 fields) → canonical text.

import { formatIpv4, formatIpv6 } from '../decode/ip-address.js';

/**
 * Bytes of a 32-bit word as the kernel printed it (`%08X` of the in-memory word, or a u32
 * tracepoint field). The kernel stores addresses in network order, so on a little-endian
 * host the printed number reads backwards.
 */
export function wordToBytes(word: number, hostLittleEndian = true): number[] {
  const b = [(word >>> 24) & 0xff, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff];
  return hostLittleEndian ? b.reverse() : b;
}

/** IPv4 text from a u32 tracepoint field such as `saddr=0x100007f` (→ 127.0.0.1 on x86). */
export function ipv4FromHostWord(word: number, hostLittleEndian = true): string {
  return formatIpv4(wordToBytes(word, hostLittleEndian));
}

/**
 * IPv4 (8 hex digits) or IPv6 (32 hex digits, four words) address from /proc/net/tcp{,6}.
 * Returns null for any other length or a non-hex digit.
 */
export function ipFromProcHex(hex: string, hostLittleEndian = true): string | null {
  if (!/^[0-9A-Fa-f]+$/.test(hex)) return null;
  if (hex.length === 8) return ipv4FromHostWord(parseInt(hex, 16), hostLittleEndian);
  if (hex.length !== 32) return null;
  const bytes: number[] = [];
  for (let i = 0; i < 4; i++) bytes.push(...wordToBytes(parseInt(hex.slice(8 * i, 8 * i + 8), 16), hostLittleEndian));
  return formatIpv6(bytes);
}

/** IPv4-mapped form of an IPv4 address (how a dual-stack socket shows it in tcp6). */
export function ipv4Mapped(ipv4: string): string {
  return `::ffff:${ipv4}`;
}
