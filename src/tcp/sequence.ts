// tcp/: 32-bit TCP sequence-number arithmetic (RFC 9293 §3.4), wrap-around safe.

/** Signed distance from `b` to `a` modulo 2^32: > 0 when `a` is after `b`. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `seq + n` modulo 2^32. */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) >>> 0;
}
