/**
 * Client setup: an `@segment/analytics-node` instance whose HTTP transport runs every request through `ctx.call`
 * (budget, retries honouring Retry-After, counting), with the SDK's own retries off, and the classification of what
 * Segment answers into segflow's error taxonomy.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Analytics } from '@segment/analytics-node';
import {
  ConfigError,
  RateLimitedError,
  RejectedRowError,
  TransientError,
  classifyByDefault,
  retryAfter,
  type ConnectorContext,
} from '../../plugins/index.js';

/** A non-2xx answer from Segment, thrown by the transport so that `ctx.call` can classify and retry it. */
export class SegmentHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Headers,
  ) {
    super(`Segment answered ${status}: ${messageOf(body)}`);
    this.name = 'SegmentHttpError';
  }
}

/**
 * Turns what Segment answered into segflow's errors: 429 waits (Retry-After), 5xx and 408 are retried, 401/403 stop
 * the connection, any other 4xx rejects the rows of that request with Segment's message.
 *
 * @example
 * classifySegmentError(new SegmentHttpError(429, '', new Headers({ 'retry-after': '2' }))); // RateLimitedError, 2000 ms
 */
export function classifySegmentError(error: unknown): Error | undefined {
  if (!(error instanceof SegmentHttpError)) return classifyByDefault(error);
  const { status } = error;
  if (status === 429) {
    const wait = retryAfter(error);
    return new RateLimitedError(`Segment rate limited the request`, {
      cause: error,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    });
  }
  if (status === 401 || status === 403) {
    return new ConfigError(`Segment refused the write key (${status})`, {
      cause: error,
      fix: "set writeKey to the write key of the Segment source (Connections → Sources → the source's settings)",
    });
  }
  if (status >= 500 || status === 408) return new TransientError(`Segment server error ${status}`, { cause: error });
  return new RejectedRowError(`Segment refused the request (${status}): ${messageOf(error.body)}`, {
    cause: error,
    details: { status },
  });
}

/** What one SDK instance needs. */
export interface ClientOptions {
  writeKey: string;
  host: string;
  timeoutMs: number;
  /** Events after which the SDK sends a request: the connector sizes each request itself. */
  flushAt: number;
}

/**
 * Creates an SDK instance for one request-sized chunk of events. `maxRetries: 0` and a transport that throws on any
 * non-2xx answer keep the SDK from retrying anything itself (with Retry-After it would otherwise wait out a 429 on
 * its own); `ctx.call` does the waiting and retrying instead.
 *
 * @example
 * const analytics = segmentClient({ writeKey, host, timeoutMs: 10_000, flushAt: 2 }, ctx);
 * analytics.identify({ userId: 'c1', traits: { vip: true }, messageId }, (error) => …);
 * await analytics.closeAndFlush({ timeout: 0 });
 */
export function segmentClient(options: ClientOptions, ctx: ConnectorContext): Analytics {
  const analytics = new Analytics({
    writeKey: options.writeKey,
    host: options.host,
    path: '/v1/batch',
    flushAt: Math.max(1, options.flushAt),
    flushInterval: 60_000,
    maxRetries: 0,
    httpRequestTimeout: options.timeoutMs,
    httpClient: {
      makeRequest: (request) =>
        ctx.call('batch', (signal) =>
          post(
            request.url,
            request.headers,
            request.body,
            AbortSignal.any([signal, AbortSignal.timeout(request.httpRequestTimeout)]),
          ),
        ),
    },
  });
  // Delivery failures also reach each event's callback; without a listener the emitter would have nowhere to put them.
  analytics.on('error', () => {});
  return analytics;
}

/** Connections kept open between requests, shared by every SDK instance (each request-sized chunk has its own). */
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * POSTs one request through node:http(s), which costs a third of the CPU that fetch spends per request (fetch wraps
 * each body and answer in web streams), and resolves with what the SDK reads of a 2xx answer; any other status
 * throws SegmentHttpError.
 */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<{ status: number; statusText: string; headers: Headers }> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const sent = (secure ? httpsRequest : httpRequest)(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: secure ? agents.https : agents.http,
        signal,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('error', reject);
        answer.on('end', () => {
          const status = answer.statusCode ?? 0;
          const answered = headersOf(answer.headers);
          if (status < 200 || status >= 300)
            reject(new SegmentHttpError(status, Buffer.concat(chunks).toString('utf8'), answered));
          else resolve({ status, statusText: answer.statusMessage ?? '', headers: answered });
        });
      },
    );
    // Aborted (the run stopped, or the request timed out): the signal's reason says which, as fetch's error did.
    sent.on('error', (error) => reject(signal.aborted ? signal.reason : error));
    sent.end(body);
  });
}

function headersOf(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

function messageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; error?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: the text itself
  }
  return body.slice(0, 200);
}
