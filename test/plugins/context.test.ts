import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  RateLimitedError,
  TransientError,
  createContext,
  type Clock,
  type Logger,
} from '../../plugins/index.js';

/** A clock whose sleeps advance time instantly, so limits and backoff are exercised without waiting. */
function virtualClock(start = 1_700_000_000_000): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (message: string, fields?: Record<string, unknown>) =>
    lines.push(JSON.stringify({ message, ...fields }));
  return { lines, debug: write, info: write, warn: write, error: write };
}

describe('ctx.call', () => {
  it('never lets more than the budget into any rolling window', async () => {
    const clock = virtualClock();
    const ctx = createContext({
      connection: 'hs',
      clock,
      budget: { requests: 10, intervalMs: 1000 },
      logger: memoryLogger(),
    });
    const starts: number[] = [];
    for (let i = 0; i < 55; i++) await ctx.call('op', async () => starts.push(clock.now()));
    for (const start of starts) {
      const inWindow = starts.filter((t) => t >= start && t < start + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(10);
    }
    // and it does not crawl: 55 requests at 10/s take about 5 windows
    expect(starts.at(-1)! - starts[0]!).toBeLessThan(5 * 1000 + 100);
    expect(ctx.stats.requests).toBe(55);
  });

  it('keeps the window exact over thousands of requests', async () => {
    const clock = virtualClock();
    const ctx = createContext({
      connection: 'hs',
      clock,
      budget: { requests: 7, intervalMs: 500 },
      logger: memoryLogger(),
    });
    const starts: number[] = [];
    for (let i = 0; i < 3000; i++) await ctx.call('op', async () => starts.push(clock.now()));
    for (let i = 7; i < starts.length; i++) expect(starts[i]! - starts[i - 7]!).toBeGreaterThan(500);
    expect(starts.at(-1)! - starts[0]!).toBeLessThan((3000 / 7) * 501 + 501);
  });

  it('accepts a limit far above the traffic without holding memory for it', async () => {
    const clock = virtualClock();
    const ctx = createContext({
      connection: 'hs',
      clock,
      budget: { requests: 1_000_000_000, intervalMs: 1000 },
      logger: memoryLogger(),
    });
    for (let i = 0; i < 2000; i++) await ctx.call('op', async () => i);
    expect(ctx.stats.requests).toBe(2000);
    expect(clock.slept).toEqual([]);
  });

  it('waits out a 429 with its Retry-After without using up attempts', async () => {
    const clock = virtualClock();
    const ctx = createContext({ connection: 'hs', clock, retry: { maxAttempts: 2 }, logger: memoryLogger() });
    let calls = 0;
    const result = await ctx.call('op', async () => {
      calls++;
      if (calls <= 5) throw new RateLimitedError('slow down', { retryAfterMs: 2000 });
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(6);
    expect(ctx.stats.rateLimited).toBe(5);
    expect(clock.slept.filter((ms) => ms >= 2000).length).toBe(5);
  });

  it('reads Retry-After from an SDK-style error carrying status and headers', async () => {
    const clock = virtualClock();
    const ctx = createContext({ connection: 'mc', clock, logger: memoryLogger() });
    let calls = 0;
    await ctx.call('op', async () => {
      if (calls++ === 0)
        throw Object.assign(new Error('Too Many Requests'), { status: 429, headers: { 'Retry-After': '7' } });
    });
    expect(clock.slept).toContain(7000);
  });

  it('retries transient failures with growing backoff, then gives up after maxAttempts', async () => {
    const clock = virtualClock();
    const ctx = createContext({
      connection: 'sf',
      clock,
      retry: { maxAttempts: 4, baseDelayMs: 100 },
      logger: memoryLogger(),
      random: () => 1,
    });
    let calls = 0;
    const failing = ctx.call('op', async () => {
      calls++;
      throw Object.assign(new Error('bad gateway'), { statusCode: 502 });
    });
    await expect(failing).rejects.toBeInstanceOf(TransientError);
    expect(calls).toBe(4);
    expect(clock.slept).toEqual([100, 200, 400]);
    expect(ctx.stats.retries).toBe(3);
  });

  it('names a failure that has no message by its class and code once retries give up', async () => {
    const ctx = createContext({
      connection: 'sf',
      clock: virtualClock(),
      retry: { maxAttempts: 2, baseDelayMs: 1 },
      logger: memoryLogger(),
    });
    const failing = ctx.call('op', async () => {
      throw Object.assign(new TypeError(''), { statusCode: 503, code: 'UND_ERR_SOCKET' });
    });
    await expect(failing).rejects.toThrow('server error 503: TypeError (UND_ERR_SOCKET) without a message');
  });

  it('does not retry a config error', async () => {
    const ctx = createContext({ connection: 'sf', clock: virtualClock(), logger: memoryLogger() });
    let calls = 0;
    const failing = ctx.call('op', async () => {
      calls++;
      throw Object.assign(new Error('unauthorised'), { status: 401 });
    });
    await expect(failing).rejects.toBeInstanceOf(ConfigError);
    expect(calls).toBe(1);
  });

  it('stops at the daily budget with a rate-limited error scoped to the day', async () => {
    const ctx = createContext({
      connection: 'sf',
      clock: virtualClock(),
      budget: { daily: 3 },
      logger: memoryLogger(),
    });
    for (let i = 0; i < 3; i++) await ctx.call('op', async () => i);
    const over = ctx.call('op', async () => 'never');
    await expect(over).rejects.toMatchObject({ code: 'rate_limited', scope: 'daily' });
  });

  it('stops before the tool says so when the tool reports its own daily usage', async () => {
    const ctx = createContext({ connection: 'sf', clock: virtualClock(), logger: memoryLogger() });
    ctx.observeDailyUsage(14_999, 15_000);
    await ctx.call('op', async () => 1);
    await expect(ctx.call('op', async () => 2)).rejects.toMatchObject({ scope: 'daily' });
  });

  it('keeps no more requests in flight than the concurrency cap', async () => {
    const ctx = createContext({ connection: 'mc', budget: { concurrency: 3 }, logger: memoryLogger() });
    let inFlight = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        ctx.call('op', async () => {
          peak = Math.max(peak, ++inFlight);
          await new Promise((r) => setTimeout(r, 5));
          inFlight--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(ctx.stats.requests).toBe(12);
  });
});

describe('the connector logger', () => {
  it('never writes a secret value or a secret-named field', async () => {
    const logger = memoryLogger();
    const ctx = createContext({ connection: 'hs', logger, secrets: ['pat-na1-SECRET-123'] });
    ctx.logger.error('request failed with token pat-na1-SECRET-123', {
      accessToken: 'anything',
      nested: { url: 'https://x/?key=pat-na1-SECRET-123', password: 'hunter22' },
    });
    const written = logger.lines.join('\n');
    expect(written).not.toContain('pat-na1-SECRET-123');
    expect(written).not.toContain('hunter22');
    expect(written).not.toContain('anything');
    expect(written).toContain('[redacted]');
  });
});
