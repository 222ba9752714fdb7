// decode/: IP address bytes → canonical text (IPv6 compressed as in RFC 5952).

/** Dotted quad of 4 bytes at `offset`. */
export function formatIpv4(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952 text of 16 bytes at `offset`: lower case, longest zero run compressed. */
export function formatIpv6(bytes: Uint8Array, offset: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) {
    words.push(((bytes[offset + 2 * i] as number) << 8) | (bytes[offset + 2 * i + 1] as number));
  }
  return formatIpv6Words(words);
}

function formatIpv6Words(words: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

/**
 * Normalises any textual IPv6 address (e.g. the uncompressed form the pcap
 * package prints) to RFC 5952; IPv4 text is returned unchanged. Invalid input
 * is returned as given.
 */
export function normalizeIp(text: string): string {
  if (!text.includes(':')) return text;
  const [headText, tailText, extra] = text.toLowerCase().split('::');
  if (extra !== undefined) return text;
  const head = headText ? headText.split(':') : [];
  const tail = tailText ? tailText.split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (tailText === undefined ? missing !== 0 : missing < 1) return text;
  const parts = [...head, ...Array<string>(tailText === undefined ? 0 : missing).fill('0'), ...tail];
  const words = parts.map((p) => Number.parseInt(p, 16));
  if (words.some((w) => Number.isNaN(w) || w < 0 || w > 0xffff)) return text;
  return formatIpv6Words(words);
}
