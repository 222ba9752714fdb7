// Pure IP address helpers for attribution: kernel hex/u32 forms → text, and one canonical text form.

/**
 * Turns the 4 bytes of an IPv4 address (network order) into dotted-quad text.
 */
export function formatIpv4(bytes: ArrayLike<number>): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * Turns 16 bytes (network order) into RFC 5952 text: lower case, longest zero run as `::`,
 * and IPv4-mapped addresses as `::ffff:a.b.c.d`.
 */
export function formatIpv6(bytes: ArrayLike<number>): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${formatIpv4([bytes[12] ?? 0, bytes[13] ?? 0, bytes[14] ?? 0, bytes[15] ?? 0])}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

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

/** 4 bytes of dotted-quad text, or null. */
export function parseIpv4(text: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

/** 16 bytes of IPv6 text (any valid form, embedded IPv4 allowed, zone id dropped), or null. */
export function parseIpv6(text: string): number[] | null {
  let s = text.replace(/^\[|\]$/g, '');
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (!v4) return null;
    tail = v4;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const groups = part.split(':');
    if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
    return groups.map((g) => parseInt(g, 16));
  };
  const head = parse(halves[0] ?? '');
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (!head || !rest) return null;
  let words: number[];
  if (halves.length === 2) {
    if (head.length + rest.length > 7) return null;
    words = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    if (head.length !== 8) return null;
    words = head;
  }
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/**
 * One canonical text form so addresses from pcap, /proc and tracefs compare equal:
 * dotted quad for IPv4, RFC 5952 for IPv6. Unparseable input is returned unchanged.
 */
export function normalizeIp(text: string): string {
  const v4 = parseIpv4(text);
  if (v4) return formatIpv4(v4);
  const v6 = parseIpv6(text);
  return v6 ? formatIpv6(v6) : text;
}

/** IPv4-mapped form of an IPv4 address (how a dual-stack socket shows it in tcp6). */
export function ipv4Mapped(ipv4: string): string {
  return `::ffff:${ipv4}`;
}
