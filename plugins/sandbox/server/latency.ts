/**
 * Latency as hono middleware: every request is held a while before it is answered, as a real API over the internet
 * is, so concurrent clients overlap and a concurrency cap (Mailchimp's 10 connections) can be reached from outside.
 */
import type { Context, MiddlewareHandler } from 'hono';

/**
 * Options of {@link latency}.
 *
 * @example
 * latency({ ms: 40, skip: (c) => c.req.path === '/oauth/v1/token' });
 */
export interface LatencyOptions {
  /** How long each request is held, in ms (0 answers at once). */
  ms: number;
  /** Requests answered without delay. */
  skip?: (c: Context) => boolean;
  /** How the delay is waited (default a real timer); tests may pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Latency middleware plus its runtime control.
 *
 * @example
 * const slow = latency({ ms: 0 });
 * app.use('*', slow);
 * slow.set(1500); // in a test: hold every request 1.5 s
 */
export type Latency = MiddlewareHandler & {
  /** Changes the delay, in ms. */
  set(ms: number): void;
  /** The delay now, in ms. */
  ms(): number;
};

/**
 * Holds every request `ms` before passing it on. Mount it after the concurrency limiter, so a held request keeps its
 * connection slot while it waits, as a slow answer does.
 *
 * @example
 * app.use('/3.0/*', concurrencyLimit({ max: 10, onLimited })).use('/3.0/*', latency({ ms: 40 }));
 */
export function latency(options: LatencyOptions): Latency {
  const check = (ms: number) => {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`latency: ms must be a non-negative number, got ${String(ms)}`);
  };
  check(options.ms);
  let delay = options.ms;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const middleware: MiddlewareHandler = async (c, next) => {
    if (delay > 0 && !options.skip?.(c)) await sleep(delay);
    await next();
  };
  return Object.assign(middleware, {
    set: (ms: number) => {
      check(ms);
      delay = ms;
    },
    ms: () => delay,
  });
}
