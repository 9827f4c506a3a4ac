/**
 * Seeded pseudo-random numbers for everything random in ScaleNet's core.
 *
 * Design choice: a small mutable class whose whole state is four 32-bit integers. A caller that must
 * persist randomness (a workflow, a checkpoint, the search state) calls {@link Rng.state} to get plain
 * JSON and {@link Rng.fromState} to continue exactly where it stopped. Nothing here reads the clock or
 * `Math.random`, so the same seed always yields the same stream on every platform.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's "small fast counting" generator): 128 bits of state, a
 * guaranteed period of at least 2^32 thanks to its counter, passes PractRand, and uses only 32-bit
 * integer operations, which JavaScript does exactly.
 */

/** The serialisable state of an {@link Rng}: four unsigned 32-bit integers. */
export interface RngState {
  readonly algorithm: 'sfc32';
  readonly s: readonly [number, number, number, number];
}

/** Mixes a seed (any number or string) into 32 bits with FNV-1a, so nearby seeds give unrelated streams. */
function hashSeed(seed: number | string): number {
  const text = typeof seed === 'number' ? `n:${seed}` : `s:${seed}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Seeded PRNG (sfc32). Every method advances the state; see the module comment for the persistence contract. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * Creates a generator from a seed. Equal seeds give equal streams; the number `1` and the string `"1"`
   * are different seeds on purpose.
   */
  constructor(seed: number | string) {
    const h = hashSeed(seed);
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = h;
    // Warm-up rounds decorrelate the first outputs from the seed, as recommended for sfc32.
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  /** Restores a generator from {@link Rng.state}; throws if the state is malformed. */
  static fromState(state: RngState): Rng {
    const s = state?.s;
    if (state?.algorithm !== 'sfc32' || !Array.isArray(s) || s.length !== 4 ||
        !s.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
      throw new Error('rng state: expected {"algorithm":"sfc32","s":[four unsigned 32-bit integers]}');
    }
    const rng = new Rng(0);
    [rng.a, rng.b, rng.c, rng.d] = s;
    return rng;
  }

  /** The current state as plain JSON; feeding it to {@link Rng.fromState} continues the same stream. */
  state(): RngState {
    return { algorithm: 'sfc32', s: [this.a, this.b, this.c, this.d] };
  }

  /** An independent copy with the same state. */
  clone(): Rng {
    return Rng.fromState(this.state());
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = (this.b ^ (this.b >>> 9)) >>> 0;
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [lo, hi] (both inclusive), without modulo bias. */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      throw new RangeError(`rng.int: need integers lo <= hi, got ${lo}, ${hi}`);
    }
    const span = hi - lo + 1;
    if (span > 0x100000000) return lo + Math.floor(this.float() * span);
    // Rejection sampling: discard the top partial bucket so every value is equally likely.
    const limit = Math.floor(0x100000000 / span) * span;
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return lo + (x % span);
  }

  /** A uniformly chosen element; throws on an empty list. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('rng.choice: empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** Index drawn with probability proportional to `weights` (non-negative, positive sum). */
  weightedIndex(weights: readonly number[]): number {
    const total = weights.reduce((a, w) => a + w, 0);
    if (!(total > 0) || weights.some((w) => !(w >= 0))) {
      throw new RangeError('rng.weightedIndex: weights must be non-negative with a positive sum');
    }
    let u = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i] as number;
      if (u < 0) return i;
    }
    // Float round-off can leave u at ~0 after the loop: return the last index with positive weight.
    for (let i = weights.length - 1; i >= 0; i--) if ((weights[i] as number) > 0) return i;
    return weights.length - 1;
  }

  /** A shuffled copy (Fisher–Yates); the input is not modified. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  /** Bernoulli draw: true with probability p. */
  bool(p = 0.5): boolean {
    return this.float() < p;
  }

  /**
   * Normal deviate (Box–Muller). No spare value is cached, so the state stays exactly the four words
   * (one call consumes four 32-bit outputs).
   */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.float(); // (0, 1]: keeps log finite
    const u2 = this.float();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
