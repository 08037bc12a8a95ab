/**
 * Seeded randomness for the world: a 32-bit hash of (seed, index, stream) and a small mulberry32 generator with the
 * samplers the behaviour processes need (gamma, beta, exponential, Poisson). Every draw is reproducible from the
 * seed, and each stream of a person (identity, presence, purchases, email…) is independent of the others, so adding
 * a draw to one stream never shifts another.
 */

/**
 * Hashes any seed (string or number) to an unsigned 32-bit integer (FNV-1a, then mixed).
 *
 * @example
 * const seedHash = hashSeed('demo'); // the same number on every run
 */
export function hashSeed(seed: string | number): number {
  const text = typeof seed === 'number' ? `n:${seed}` : `s:${seed}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** A strong 32-bit integer finaliser (murmur3 fmix32). */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The 32-bit key of one (seed, index, stream) triple. */
export function streamKey(seedHash: number, index: number, stream: number): number {
  const hi = Math.floor(index / 0x100000000);
  return mix32(
    seedHash ^ mix32(Math.imul(index >>> 0, 0x9e3779b1) ^ mix32(hi + 0x7f4a7c15) ^ Math.imul(stream + 1, 0x27d4eb2f)),
  );
}

/**
 * One uniform draw in [0, 1) for (seed, index, stream), with no generator object: the cheap path for indexes.
 *
 * @example
 * uniformAt(hashSeed('demo'), 42, 7) < 0.5; // the same answer for person 42, stream 7, every time
 */
export function uniformAt(seedHash: number, index: number, stream: number): number {
  return streamKey(seedHash, index, stream) / 0x100000000;
}

/**
 * A mulberry32 generator with the samplers the world's processes use.
 *
 * @example
 * const r = new Rng(hashSeed('demo'));
 * r.pick(['a', 'b']); r.chance(0.3); r.gamma(2, 1);
 */
export class Rng {
  private state: number;

  constructor(key: number) {
    this.state = key >>> 0;
  }

  /** A uniform draw in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick() needs a non-empty list');
    return item;
  }

  /** Picks by weight; `weights` need not sum to 1. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i] ?? 0;
      if (r < 0) return items[i] as T;
    }
    return items[items.length - 1] as T;
  }

  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Exponential waiting time with the given rate (mean 1/rate). */
  exponential(rate: number): number {
    return -Math.log(1 - this.next()) / rate;
  }

  /** Gamma(shape, scale) by Marsaglia–Tsang (mean shape × scale). */
  gamma(shape: number, scale: number): number {
    if (shape < 1) {
      const boost = Math.pow(1 - this.next(), 1 / shape);
      return this.gamma(shape + 1, scale) * boost;
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - this.next();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }

  /** Beta(a, b) as a ratio of gammas. */
  beta(a: number, b: number): number {
    const x = this.gamma(a, 1);
    const y = this.gamma(b, 1);
    return x / (x + y);
  }
}
