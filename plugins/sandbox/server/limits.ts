/**
 * Rate limits as hono middleware: an exact rolling-window limiter with a daily budget, and a concurrent-request
 * limiter. Each answers with a response the sandbox builds itself, so every tool renders its own error shape
 * (HubSpot's `policyName` body, Salesforce's `REQUEST_LIMIT_EXCEEDED` array, Mailchimp's problem+json).
 */
import type { Context, MiddlewareHandler } from 'hono';

/**
 * Why a request was refused.
 *
 * @example
 * onLimited: (c, s) => c.json({ error: s.policy === 'daily' ? 'DAILY_LIMIT' : 'TOO_MANY' }, 429),
 */
export type LimitPolicy = 'interval' | 'daily' | 'concurrency';

/**
 * What a limiter tells the response builder and the header builder.
 *
 * @example
 * onLimited: (c, s) =>
 *   c.json({ message: `limit ${s.limit} reached` }, 429, { 'Retry-After': String(Math.ceil(s.retryAfterMs / 1000)) }),
 */
export interface LimitState {
  policy: LimitPolicy;
  /** The limit that applies (requests per interval, per day, or simultaneous). */
  limit: number;
  /** What is left of that limit after this request (0 when refused). */
  remaining: number;
  /** How long until a request would be admitted again, in ms (0 when admitted). */
  retryAfterMs: number;
  intervalMs?: number;
  /** Requests admitted so far today, and the daily budget (when one is set). */
  dailyUsed: number;
  daily?: number;
}

/**
 * Options of {@link rateLimit}.
 *
 * @example
 * rateLimit({ requests: 25, intervalMs: 1000, onLimited: (c) => c.json({ error: 'slow down' }, 429) });
 */
export interface RateLimitOptions {
  /** At most this many requests in any rolling `intervalMs`. */
  requests?: number;
  intervalMs?: number;
  /** At most this many requests per UTC day. */
  daily?: number;
  /** The clock, epoch ms (default `Date.now`). A test may pass a fake one. */
  now?: () => number;
  /** Requests that do not count and are never refused (e.g. the OAuth token endpoint). */
  skip?: (c: Context) => boolean;
  /** Builds the refusal (usually a 429, or Salesforce's 403 for the daily budget). */
  onLimited: (c: Context, state: LimitState) => Response | Promise<Response>;
  /** Headers put on every admitted response (e.g. `X-HubSpot-RateLimit-Remaining`, `Sforce-Limit-Info`). */
  headers?: (c: Context, state: LimitState) => Record<string, string>;
}

/**
 * The budgets a limiter can be switched to at runtime; a key set to `undefined` removes that budget.
 *
 * @example
 * limiter.set({ daily: 5 }); // in a test: exhaust the daily budget quickly
 */
export interface RateLimitSettings {
  requests?: number | undefined;
  intervalMs?: number | undefined;
  daily?: number | undefined;
}

/**
 * A rolling-window and daily limiter: hono middleware plus runtime controls.
 *
 * @example
 * const limiter = rateLimit({ requests: 100, intervalMs: 10_000, onLimited });
 * app.use('*', limiter);
 * limiter.set({ requests: 2 });
 */
export type RateLimiter = MiddlewareHandler & {
  /**
   * Changes the budgets given (a key set to `undefined` removes that budget; keys left out are kept). Today's count
   * and the admission times still inside the window are kept.
   */
  set(settings: RateLimitSettings): void;
  /** Forgets every admitted request (a new day, a fresh test). */
  reset(): void;
  /**
   * Counts n requests against today's budget without admitting any, as other apps of the same account do (a test
   * that starts with the daily budget spent).
   */
  consume(n: number): void;
  /**
   * Requests admitted and refused so far, those admitted today, and the most admitted requests any one rolling
   * window held.
   */
  counts(): {
    admitted: number;
    refused: number;
    refusedBy: Record<'interval' | 'daily', number>;
    dailyUsed: number;
    peakInWindow: number;
  };
};

/**
 * An exact rolling-window limiter: it keeps the admission times of the last N requests, so no window of
 * `intervalMs` can ever hold more than `requests` admitted requests, plus a per-UTC-day budget. Refused requests are
 * not counted.
 *
 * @example
 * app.use('*', rateLimit({
 *   requests: 100, intervalMs: 10_000, daily: 250_000,
 *   onLimited: (c, s) => c.json({ status: 'error', policyName: s.policy === 'daily' ? 'DAILY' : 'TEN_SECONDLY_ROLLING'
 * }, 429),
 * }));
 */
export function rateLimit(options: RateLimitOptions): RateLimiter {
  let settings: RateLimitSettings = {};
  const now = options.now ?? Date.now;
  /** Admission times inside the current window, oldest first, from `first` on (no allocation by the limit's size). */
  let times: number[] = [];
  let first = 0;
  /** Forgets admissions that left the window ending at `t`. */
  const prune = (t: number) => {
    if (settings.intervalMs === undefined) return;
    const windowStart = t - settings.intervalMs;
    while (first < times.length && (times[first] as number) <= windowStart) first++;
    if (first > 1024 && first * 2 > times.length) {
      times = times.slice(first);
      first = 0;
    }
  };
  let day = -1;
  let dailyUsed = 0;
  let admitted = 0;
  let peakInWindow = 0;
  const refusedBy = { interval: 0, daily: 0 };
  const newDay = (t: number) => {
    const today = Math.floor(t / 86_400_000);
    if (today !== day) {
      day = today;
      dailyUsed = 0;
    }
    return today;
  };

  const set = (change: RateLimitSettings) => {
    const next: RateLimitSettings = { ...settings, ...change };
    if (next.requests !== undefined && (!Number.isInteger(next.requests) || next.requests < 1)) {
      throw new Error(`rateLimit: requests must be a positive integer, got ${String(next.requests)}`);
    }
    if (next.requests !== undefined && !(next.intervalMs !== undefined && next.intervalMs > 0)) {
      throw new Error(
        'rateLimit: pass intervalMs (> 0) together with requests, e.g. { requests: 100, intervalMs: 10_000 }',
      );
    }
    if (next.daily !== undefined && (!Number.isInteger(next.daily) || next.daily < 0)) {
      throw new Error(`rateLimit: daily must be a non-negative integer, got ${String(next.daily)}`);
    }
    settings = Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined));
  };

  const state = (t: number, policy: LimitPolicy, retryAfterMs: number): LimitState => {
    const s: LimitState = { policy, limit: 0, remaining: 0, retryAfterMs, dailyUsed };
    if (settings.daily !== undefined) s.daily = settings.daily;
    if (settings.intervalMs !== undefined) s.intervalMs = settings.intervalMs;
    if (policy === 'daily') {
      s.limit = settings.daily ?? 0;
      s.remaining = Math.max(0, s.limit - dailyUsed);
    } else if (settings.requests !== undefined && settings.intervalMs !== undefined) {
      prune(t);
      s.limit = settings.requests;
      s.remaining = Math.max(0, settings.requests - (times.length - first));
    }
    return s;
  };

  const middleware: MiddlewareHandler = async (c, next) => {
    if (options.skip?.(c)) return next();
    const t = now();
    const today = newDay(t);
    if (settings.daily !== undefined && dailyUsed >= settings.daily) {
      refusedBy.daily++;
      return options.onLimited(c, state(t, 'daily', (today + 1) * 86_400_000 - t));
    }
    if (settings.requests !== undefined && settings.intervalMs !== undefined) {
      prune(t);
      // Full when the window already holds `requests` admissions; the oldest of the last `requests` leaves it first.
      const inWindow = times.length - first;
      if (inWindow >= settings.requests) {
        const oldest = times[times.length - settings.requests] as number;
        refusedBy.interval++;
        return options.onLimited(c, state(t, 'interval', oldest + settings.intervalMs - t));
      }
      times.push(t);
    }
    dailyUsed++;
    admitted++;
    const s = state(t, 'interval', 0);
    if (s.limit > 0) peakInWindow = Math.max(peakInWindow, s.limit - s.remaining);
    await next();
    if (options.headers) {
      for (const [name, value] of Object.entries(options.headers(c, s))) c.res.headers.set(name, value);
    }
  };

  set({ requests: options.requests, intervalMs: options.intervalMs, daily: options.daily });

  return Object.assign(middleware, {
    set,
    reset: () => {
      times = [];
      first = 0;
      dailyUsed = 0;
      admitted = 0;
      peakInWindow = 0;
      refusedBy.interval = 0;
      refusedBy.daily = 0;
    },
    consume: (n: number) => {
      if (!Number.isInteger(n) || n < 0)
        throw new Error(`rateLimit: consume takes a non-negative integer, got ${String(n)}`);
      newDay(now());
      dailyUsed += n;
    },
    counts: () => ({
      admitted,
      refused: refusedBy.interval + refusedBy.daily,
      refusedBy: { ...refusedBy },
      dailyUsed,
      peakInWindow,
    }),
  });
}

/**
 * Options of {@link concurrencyLimit}.
 *
 * @example
 * concurrencyLimit({ max: 10, onLimited: (c) => c.json({ status: 429 }, 429) });
 */
export interface ConcurrencyLimitOptions {
  /** At most this many requests in flight at once (Mailchimp: 10). */
  max: number;
  skip?: (c: Context) => boolean;
  /** Builds the refusal (Mailchimp: a 429 problem+json, sometimes a bare 403). */
  onLimited: (c: Context, state: LimitState) => Response | Promise<Response>;
}

/**
 * A concurrent-request limiter: hono middleware plus runtime controls.
 *
 * @example
 * const limiter = concurrencyLimit({ max: 10, onLimited });
 * app.use('*', limiter);
 * limiter.set(1);
 */
export type ConcurrencyLimiter = MiddlewareHandler & {
  /** Changes the cap. */
  set(max: number): void;
  /** Forgets the peak and the refusals (a fresh test); requests in flight stay counted. */
  reset(): void;
  /** Requests in flight now, the most ever in flight at once, and how many were refused. */
  counts(): { inFlight: number; peak: number; refused: number };
};

/**
 * Refuses a request while `max` others are still being answered.
 *
 * @example
 * app.use('/3.0/*', concurrencyLimit({
 *   max: 10,
 *   onLimited: (c) => c.json({ title: 'Too Many Requests', status: 429, detail: 'You have exceeded the limit of 10
 * simultaneous connections.' }, 429),
 * }));
 */
export function concurrencyLimit(options: ConcurrencyLimitOptions): ConcurrencyLimiter {
  let max = options.max;
  const check = (m: number) => {
    if (!Number.isInteger(m) || m < 1)
      throw new Error(`concurrencyLimit: max must be a positive integer, got ${String(m)}`);
  };
  check(max);
  let inFlight = 0;
  let peak = 0;
  let refused = 0;
  const middleware: MiddlewareHandler = async (c, next) => {
    if (options.skip?.(c)) return next();
    if (inFlight >= max) {
      refused++;
      return options.onLimited(c, { policy: 'concurrency', limit: max, remaining: 0, retryAfterMs: 0, dailyUsed: 0 });
    }
    inFlight++;
    peak = Math.max(peak, inFlight);
    try {
      await next();
    } finally {
      inFlight--;
    }
  };
  return Object.assign(middleware, {
    set: (m: number) => {
      check(m);
      max = m;
    },
    reset: () => {
      peak = inFlight;
      refused = 0;
    },
    counts: () => ({ inFlight, peak, refused }),
  });
}
