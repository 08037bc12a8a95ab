/**
 * Per-write-key rate limits: a token bucket per key, refilled at `perSecond` messages a second up to `burst`. A
 * request that would overdraw it is refused whole (every tested library retries a 429 after its Retry-After).
 */

export interface RateLimiter {
  /** Takes `messages` tokens from the key's bucket; when it holds too few, the seconds until it will. */
  take(key: string, messages: number): { ok: true } | { ok: false; retryAfterSeconds: number };
}

/**
 * A limiter on the monotonic clock (`now` in milliseconds, for tests).
 *
 * @example
 * const limits = rateLimiter({ perSecond: 5000 });
 * const verdict = limits.take('website', batch.length);
 * if (!verdict.ok) c.header('Retry-After', String(verdict.retryAfterSeconds));
 */
export function rateLimiter(options: { perSecond: number; burst?: number; now?: () => number }): RateLimiter {
  const burst = options.burst ?? Math.max(1, Math.ceil(options.perSecond * 2));
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key, messages) {
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: t };
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * options.perSecond);
      bucket.at = t;
      buckets.set(key, bucket);
      // A request larger than the whole burst could never pass: it is charged what the bucket holds at its fullest.
      const cost = Math.min(messages, burst);
      if (bucket.tokens >= cost) {
        bucket.tokens -= cost;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((cost - bucket.tokens) / options.perSecond)) };
    },
  };
}
