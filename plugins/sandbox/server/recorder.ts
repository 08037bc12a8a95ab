/**
 * The request recorder: hono middleware that keeps every raw request a sandbox received (method, path, query,
 * headers, raw body, time, answered status), so tests assert on what the real SDK actually sent.
 */
import type { Context, MiddlewareHandler } from 'hono';

/**
 * One request as the sandbox received it.
 *
 * @example
 * const search = recorder.requests.find((r) => r.path === '/crm/v3/objects/contacts/search');
 * JSON.parse(search!.body).filters;
 */
export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** Query parameters; a repeated one (`properties=a&properties=b`) keeps every value. */
  query: Record<string, string[]>;
  /** Headers, names lower-cased. */
  headers: Record<string, string>;
  /** The raw body as text ('' when none). */
  body: string;
  /** When the request arrived, epoch ms (from the recorder's clock). */
  at: number;
  /** The status the sandbox answered with. */
  status: number;
}

/**
 * Options of {@link createRecorder}.
 *
 * @example
 * createRecorder({ bodies: false, skip: (c) => c.req.path === '/health' });
 */
export interface RecorderOptions {
  /** The clock, epoch ms (default `Date.now`). */
  now?: () => number;
  /** Keep request bodies (default true); turn off for big benchmarks. */
  bodies?: boolean;
  /** Requests not to keep (e.g. health checks). */
  skip?: (c: Context) => boolean;
}

/**
 * A request recorder: hono middleware plus what it recorded.
 *
 * @example
 * app.use('*', recorder);
 * // … run the connector …
 * recorder.count('/3.0/lists'); recorder.clear();
 */
export type Recorder = MiddlewareHandler & {
  /** Every request kept so far, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** How many requests were kept: all, those whose path equals (or matches) `path`, or those the predicate accepts. */
  count(filter?: string | RegExp | ((r: RecordedRequest) => boolean)): number;
  /** Counts by `METHOD path`. */
  byPath(): Record<string, number>;
  /** Forgets every request. */
  clear(): void;
};

/**
 * Creates a recorder. Mount it first, before limiters and faults, so refused requests are recorded too.
 *
 * @example
 * const recorder = createRecorder();
 * app.use('*', recorder);
 * // … run the connector …
 * expect(recorder.count('/crm/v3/objects/contacts/search')).toBe(3);
 * expect(recorder.requests.filter((r) => r.status === 429)).toHaveLength(0);
 */
export function createRecorder(options: RecorderOptions = {}): Recorder {
  const now = options.now ?? Date.now;
  const keepBodies = options.bodies ?? true;
  let requests: RecordedRequest[] = [];

  const middleware: MiddlewareHandler = async (c, next) => {
    if (options.skip?.(c)) return next();
    const at = now();
    const url = new URL(c.req.url);
    const query: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const body = keepBodies && c.req.raw.body ? await c.req.raw.clone().text() : '';
    const entry: RecordedRequest = { method: c.req.method, path: url.pathname, query, headers, body, at, status: 0 };
    requests.push(entry);
    try {
      await next();
    } finally {
      entry.status = c.res.status;
    }
  };

  const count = (filter?: string | RegExp | ((r: RecordedRequest) => boolean)) => {
    if (filter === undefined) return requests.length;
    const test =
      typeof filter === 'string'
        ? (r: RecordedRequest) => r.path === filter
        : filter instanceof RegExp
          ? (r: RecordedRequest) => filter.test(r.path)
          : filter;
    let n = 0;
    for (const r of requests) if (test(r)) n++;
    return n;
  };

  const recorder = Object.assign(middleware, {
    count,
    byPath: () => {
      const out: Record<string, number> = {};
      for (const r of requests) {
        const key = `${r.method} ${r.path}`;
        out[key] = (out[key] ?? 0) + 1;
      }
      return out;
    },
    clear: () => {
      requests = [];
    },
  });
  Object.defineProperty(recorder, 'requests', { get: () => requests, enumerable: true });
  return recorder as Recorder;
}
