/** A seeded random generator (xoshiro128**) and the draws the simulations and seeding need. */

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  normal(): number;
  /** Gamma(shape, scale). */
  gamma(shape: number, scale: number): number;
  beta(a: number, b: number): number;
}

/**
 * @example
 * const rng = seededRandom(42);
 * rng.next(); // the same sequence for the same seed
 */
export function seededRandom(seed: number): Random {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const split = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const next = (): number => (next32() * 2 ** 21 + (next32() >>> 11)) / 2 ** 53;
  const normal = (): number => {
    let u = 0;
    while (u === 0) u = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  const gamma = (shape: number, scale: number): number => {
    if (shape < 1) {
      let u = 0;
      while (u === 0) u = next();
      return gamma(shape + 1, scale) * Math.pow(u, 1 / shape);
    }
    const dd = shape - 1 / 3;
    const cc = 1 / Math.sqrt(9 * dd);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + cc * x;
      } while (v <= 0);
      v = v * v * v;
      const u = next();
      if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + dd * (1 - v + Math.log(v)))
        return dd * v * scale;
    }
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal,
    gamma,
    beta: (alpha, beta) => {
      const x = gamma(alpha, 1);
      return x / (x + gamma(beta, 1));
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
