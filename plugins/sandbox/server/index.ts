/**
 * Sandbox server helpers: serve a hono app on a free port, limit its rate and concurrency the way the tool does,
 * inject faults, record every raw request, and persist what was written to it.
 *
 * @example
 * const recorder = createRecorder();
 * const app = new Hono().use('*', recorder).use('*', rateLimit({ requests: 100, intervalMs: 10_000, onLimited }));
 * const sandbox = await serveSandbox(app);
 */
export * from './serve.js';
export * from './limits.js';
export * from './faults.js';
export * from './latency.js';
export * from './recorder.js';
export * from './state.js';
