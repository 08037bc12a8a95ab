/**
 * The context a connector gets: `call` (rate budget, concurrency cap, retries, error classification, counting),
 * a redacting logger, an abort signal and a clock.
 *
 * @example
 * const page = await ctx.call('contacts.list', () => client.crm.contacts.basicApi.getPage(100, after));
 */
import { ConfigError, RateLimitedError, reasonOf, SegflowError, TransientError } from './errors.js';

/**
 * A connection's request budget.
 *
 * @example
 * defineSource({ ..., rateBudget: { requests: 100, intervalMs: 10_000, daily: 250_000, concurrency: 4 } });
 */
export interface RateBudget {
  /** At most this many requests in any rolling `intervalMs`. */
  requests?: number;
  intervalMs?: number;
  /** At most this many requests per UTC day. */
  daily?: number;
  /** At most this many requests in flight at once. */
  concurrency?: number;
}

/**
 * How `ctx.call` retries a transient failure (capped exponential backoff with jitter) and how long it waits out rate
 * limits.
 *
 * @example
 * createContext({ connection: 'crm', retry: { maxAttempts: 3, baseDelayMs: 100 } });
 */
export interface RetryPolicy {
  /** Attempts for transient failures, the first included. Rate-limit waits do not use them up. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest total time spent waiting out interval rate limits within one call before giving up. */
  maxRateLimitWaitMs: number;
}

/**
 * The retry policy a context uses unless told otherwise: 5 attempts, backoff from 250 ms to 30 s, rate-limit waits up
 * to 10 minutes.
 *
 * @example
 * const patient: RetryPolicy = { ...DEFAULT_RETRY, maxAttempts: 8 };
 */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 30_000,
  maxRateLimitWaitMs: 10 * 60_000,
};

/**
 * Time as a context sees it; tests pass a fake one so waits and backoff take no real time.
 *
 * @example
 * const clock: Clock = { now: () => fakeNow, sleep: async (ms) => { fakeNow += ms; } }; // a test clock
 * createContext({ connection: 'crm', clock });
 */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The real clock: `Date.now()` and a `setTimeout` sleep that an abort signal interrupts.
 *
 * @example
 * await systemClock.sleep(250, ctx.signal); // rejects when the run is aborted
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * Structured logs: a message and JSON-serialisable fields.
 *
 * @example
 * ctx.logger.info('page read', { stream: 'contacts', records: 100 }); // secrets are redacted before writing
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Counts of what a connection did, for runs and /metrics.
 *
 * @example
 * const ctx = createContext({ connection: 'crm' });
 * // … run …
 * ctx.stats.byOperation['contacts.search']; // requests made for that operation
 */
export interface CallStats {
  requests: number;
  retries: number;
  rateLimited: number;
  failures: number;
  byOperation: Record<string, number>;
}

/**
 * What a connector gets from the engine for each connection: `call` for every API request, a redacting logger, the
 * run's abort signal and its clock.
 *
 * @example
 * const page = await ctx.call('contacts.list', (signal) => client.contacts.list({ after, signal }));
 * ctx.logger.debug('page', { size: page.results.length });
 * if (ctx.signal.aborted) return;
 */
export interface ConnectorContext {
  /** The connection's name in YAML. */
  connection: string;
  /** Runs one API request through the connection's budget, retries and error classification. */
  call<T>(operation: string, request: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Tells the budget what the tool reports of its own daily usage (Sforce-Limit-Info, X-HubSpot-RateLimit-Daily). */
  observeDailyUsage(used: number, limit: number): void;
  logger: Logger;
  signal: AbortSignal;
  clock: Clock;
}

/**
 * Options of {@link createContext}: the connection's name, budget, retry policy, error classifier, logger, signal,
 * clock and secrets.
 *
 * @example
 * createContext({
 *   connection: 'crm', budget: { requests: 100, intervalMs: 10_000 },
 *   classifyError: source.classifyError, secrets: [token],
 * });
 */
export interface ContextOptions {
  connection: string;
  budget?: RateBudget;
  retry?: Partial<RetryPolicy>;
  classifyError?: (error: unknown) => Error | undefined;
  logger?: Logger;
  signal?: AbortSignal;
  clock?: Clock;
  /** Values to scrub from every log line (the connection's secrets). */
  secrets?: string[];
  /** Random source for jitter; tests pass a seeded one. */
  random?: () => number;
  /**
   * A budget shared with other processes calling the same tool (the engine's, kept in its store): resolves when one
   * more request may go, after the connection's own budget admitted it; rejects when `signal` aborts. It may resolve
   * to a function, called once the request's answer (or failure) came back.
   */
  admit?: (signal: AbortSignal) => Promise<void | (() => void)>;
}

/**
 * A connector context plus the counters the engine reads after a run.
 *
 * @example
 * const ctx: ConnectionContext = createContext({ connection: 'crm' });
 * await source.check(config, ctx);
 * ctx.stats.requests; // 1
 */
export interface ConnectionContext extends ConnectorContext {
  stats: CallStats;
}

/**
 * Creates the context for one connection. One context per connection per process: its budget is shared by every
 * stream and batch that uses the connection.
 *
 * @example
 * const ctx = createContext({ connection: 'crm', budget: source.rateBudget, classifyError: source.classifyError });
 * for await (const message of stream.read({ config, mode: 'full_refresh', state: undefined }, ctx)) { … }
 */
export function createContext(options: ContextOptions): ConnectionContext {
  const clock = options.clock ?? systemClock;
  const signal = options.signal ?? new AbortController().signal;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const random = options.random ?? Math.random;
  const logger = redactingLogger(options.logger ?? consoleLogger(), options.secrets ?? []);
  const limiter = new RequestLimiter(options.budget ?? {}, clock);
  const stats: CallStats = { requests: 0, retries: 0, rateLimited: 0, failures: 0, byOperation: {} };
  const classify = (error: unknown): Error => options.classifyError?.(error) ?? classifyByDefault(error);

  async function call<T>(operation: string, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let attempt = 0;
    let rateLimitWaited = 0;
    for (;;) {
      await limiter.acquire(signal);
      let answered: (() => void) | undefined;
      if (options.admit)
        try {
          const settle = await options.admit(signal);
          if (typeof settle === 'function') answered = settle;
        } catch (error) {
          limiter.release();
          throw error;
        }
      stats.requests++;
      stats.byOperation[operation] = (stats.byOperation[operation] ?? 0) + 1;
      let failure: Error;
      try {
        return await request(signal);
      } catch (error) {
        failure = classify(error);
      } finally {
        limiter.release();
        answered?.();
      }
      if (signal.aborted) throw signal.reason ?? failure;
      if (failure instanceof RateLimitedError && failure.scope === 'interval') {
        stats.rateLimited++;
        const wait = failure.retryAfterMs ?? backoff(retry, Math.min(attempt + 1, 6), random);
        rateLimitWaited += wait;
        if (rateLimitWaited > retry.maxRateLimitWaitMs) throw failure;
        logger.warn('rate limited, waiting', { connection: options.connection, operation, waitMs: wait });
        limiter.pause(wait);
        continue;
      }
      if (failure instanceof RateLimitedError) {
        stats.rateLimited++;
        limiter.exhaustDay();
      }
      if (failure instanceof TransientError && attempt + 1 < retry.maxAttempts) {
        attempt++;
        stats.retries++;
        const wait = Math.max(failure.retryAfterMs ?? 0, backoff(retry, attempt, random));
        logger.warn('transient failure, retrying', {
          connection: options.connection,
          operation,
          attempt,
          waitMs: wait,
          reason: failure.message,
        });
        await clock.sleep(wait, signal);
        continue;
      }
      stats.failures++;
      throw failure;
    }
  }

  return {
    connection: options.connection,
    call,
    observeDailyUsage: (used, limit) => limiter.observeDaily(used, limit),
    logger,
    signal,
    clock,
    stats,
  };
}

/** Exponential backoff with full jitter. */
function backoff(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Classifies errors that carry an HTTP status the common ways SDKs expose it (`status`, `statusCode`, `code`,
 * `response.status`), and network errors. Anything else is returned as is and not retried.
 *
 * @example
 * // a connector's classifier maps what it knows and leaves the rest to the default:
 * classifyError: (error) => (isLockError(error) ? new TransientError('record locked', { cause: error }) : undefined),
 * // anything else: classifyByDefault(error), 429 → RateLimitedError, 5xx → TransientError, 401/403 → ConfigError
 */
export function classifyByDefault(error: unknown): Error {
  if (error instanceof SegflowError) return error;
  const status = httpStatus(error);
  const message = reasonOf(error);
  const retryAfterMs = retryAfter(error);
  const base = { cause: error, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  if (status === 429) return new RateLimitedError(`rate limited: ${message}`, base);
  if (status !== undefined && status >= 500) return new TransientError(`server error ${status}: ${message}`, base);
  if (status === 401 || status === 403)
    return new ConfigError(`not authorised (${status}): ${message}`, { cause: error });
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code))
    return new TransientError(`network: ${code}`, { cause: error });
  if (error instanceof TypeError && /fetch failed/i.test(message)) return new TransientError(message, { cause: error });
  return error instanceof Error ? error : new Error(message);
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { status?: unknown; statusCode?: unknown; code?: unknown; response?: { status?: unknown } };
  for (const value of [e.status, e.statusCode, e.response?.status, e.code]) {
    if (typeof value === 'number' && value >= 100 && value < 600) return value;
  }
  return undefined;
}

/**
 * Reads a Retry-After header (seconds or an HTTP date) from an SDK error, in milliseconds.
 *
 * @example
 * retryAfter({ response: { headers: { 'retry-after': '3' } } }); // 3000
 */
export function retryAfter(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { headers?: unknown; response?: { headers?: unknown } };
  const headers = e.headers ?? e.response?.headers;
  const value = headerValue(headers, 'retry-after');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : String(value);
  }
  return undefined;
}

/**
 * Enforces a rolling-window request limit, a daily budget and a concurrency cap. The rolling window keeps the start
 * times of the requests still inside it (at most `requests`, so memory follows the traffic, not the limit), so no
 * window of `intervalMs` ever holds more than `requests`.
 */
class RequestLimiter {
  /** Start times of the requests inside the window, oldest first from `first`. */
  private readonly starts: number[] = [];
  private first = 0;
  private inFlight = 0;
  private readonly waiters: (() => void)[] = [];
  private pausedUntil = 0;
  private day = -1;
  private usedToday = 0;
  private dailyLimit: number;

  constructor(
    private readonly budget: RateBudget,
    private readonly clock: Clock,
  ) {
    this.dailyLimit = budget.daily ?? Infinity;
  }

  async acquire(signal: AbortSignal): Promise<void> {
    const cap = this.budget.concurrency ?? Infinity;
    while (this.inFlight >= cap) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.inFlight++;
    try {
      for (;;) {
        if (signal.aborted) throw signal.reason;
        const now = this.clock.now();
        this.rollDay(now);
        if (this.usedToday >= this.dailyLimit) {
          throw new RateLimitedError('daily request budget used up for this connection', {
            scope: 'daily',
            fix: "wait for the next day, or raise the connection's daily budget if the tool allows more",
          });
        }
        const wait = Math.max(this.pausedUntil - now, this.windowWait(now));
        if (wait <= 0) break;
        await this.clock.sleep(wait, signal);
      }
    } catch (error) {
      this.release();
      throw error;
    }
    if (this.budget.requests && this.budget.intervalMs) this.starts.push(this.clock.now());
    this.usedToday++;
  }

  release(): void {
    this.inFlight--;
    this.waiters.shift()?.();
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }

  exhaustDay(): void {
    this.usedToday = this.dailyLimit = Math.min(this.dailyLimit, this.usedToday);
  }

  observeDaily(used: number, limit: number): void {
    this.rollDay(this.clock.now());
    this.usedToday = Math.max(this.usedToday, used);
    this.dailyLimit = Math.min(this.budget.daily ?? Infinity, limit);
  }

  private windowWait(now: number): number {
    const { requests, intervalMs } = this.budget;
    if (!requests || !intervalMs) return 0;
    while (this.first < this.starts.length && now - this.starts[this.first]! > intervalMs) this.first++;
    if (this.first > 1024 && this.first * 2 > this.starts.length) {
      this.starts.splice(0, this.first);
      this.first = 0;
    }
    if (this.starts.length - this.first < requests) return 0;
    return this.starts[this.starts.length - requests]! + intervalMs - now + 1;
  }

  private rollDay(now: number): void {
    const day = Math.floor(now / 86_400_000);
    if (day !== this.day) {
      this.day = day;
      this.usedToday = 0;
    }
  }
}

/**
 * A logger that writes JSON lines to stderr.
 *
 * @example
 * createContext({ connection: 'crm', logger: consoleLogger('debug') });
 */
export function consoleLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = { debug: 10, info: 20, warn: 30, error: 40 } as const;
  const write = (lvl: keyof typeof order) => (message: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    process.stderr.write(`${JSON.stringify({ level: lvl, message, ...fields })}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

const SECRET_KEY = /(token|secret|password|passwd|api[_-]?key|authorization|assertion|private[_-]?key)/i;

/**
 * Wraps a logger so no secret value, and no field named like a secret, is ever written.
 *
 * @example
 * const logger = redactingLogger(consoleLogger(), [token]);
 * logger.info('calling', { url: `https://api.example/?key=${token}` }); // the token is written as [redacted]
 */
export function redactingLogger(inner: Logger, secrets: string[]): Logger {
  const values = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const scrub = (text: string) => values.reduce((out, value) => out.split(value).join('[redacted]'), text);
  const scrubFields = (fields?: Record<string, unknown>) =>
    fields === undefined ? undefined : (redact(fields, scrub) as Record<string, unknown>);
  return {
    debug: (m, f) => inner.debug(scrub(m), scrubFields(f)),
    info: (m, f) => inner.info(scrub(m), scrubFields(f)),
    warn: (m, f) => inner.warn(scrub(m), scrubFields(f)),
    error: (m, f) => inner.error(scrub(m), scrubFields(f)),
  };
}

/**
 * Deep copy with secret-named keys replaced and secret values scrubbed from strings.
 *
 * @example
 * redact({ accessToken: 'pat-1', page: 2 }); // { accessToken: '[redacted]', page: 2 }
 */
export function redact(value: unknown, scrub: (text: string) => string = (t) => t, depth = 0): unknown {
  if (depth > 8) return '[deep]';
  if (typeof value === 'string') return scrub(value);
  if (value instanceof Error) return scrub(value.message);
  if (Array.isArray(value)) return value.map((v) => redact(v, scrub, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v, scrub, depth + 1)]),
    );
  }
  return value;
}
