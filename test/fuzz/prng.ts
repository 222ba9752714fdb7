// Fuzz harness: a small seeded PRNG, so every fuzz input is reproducible from (seed, index) alone.

/** murmur3's 32-bit finaliser: spreads every input bit over the whole word. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * xoshiro128** (Blackman & Vigna): fast, 128 bits of state, good enough for
 * fuzzing. Not for anything secret. The state is derived from (seed, stream)
 * by hashing, so neighbouring indexes give unrelated sequences and input N
 * can be rebuilt without generating inputs 0…N-1.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed any 32-bit integer; @param stream a second coordinate (the input index). */
  constructor(seed: number, stream = 0) {
    const s = mix32(seed ^ 0x9e3779b9);
    const t = mix32((stream >>> 0) ^ Math.imul(s, 0x27d4eb2d));
    this.a = mix32(s + 0x6a09e667) | 1;
    this.b = mix32(t + 0xbb67ae85);
    this.c = mix32(s ^ t ^ 0x3c6ef372);
    this.d = mix32(Math.floor(stream / 0x1_0000_0000) + 0xa54ff53a);
    for (let i = 0; i < 8; i++) this.nextUint32();
  }

  /** The generator for input `index` of the run seeded `seed`. */
  static forInput(seed: number, index: number): Prng {
    return new Prng(seed, index);
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An integer in [0, maxExclusive); 0 when maxExclusive ≤ 0. */
  int(maxExclusive: number): number {
    return maxExclusive <= 0 ? 0 : Math.floor(this.float() * maxExclusive);
  }

  /** An integer in [min, maxInclusive]. */
  between(min: number, maxInclusive: number): number {
    return min + this.int(maxInclusive - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Prng.pick: empty list');
    return items[this.int(items.length)] as T;
  }

  /** Shuffles in place (Fisher–Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.nextUint32() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
