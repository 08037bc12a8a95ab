/**
 * HubSpot's traffic rules built from the sandbox kit: the ten-second rolling window with the daily budget, the
 * search endpoints' per-second limit, faults, latency and the recorder, each rendered in HubSpot's shapes (the 429
 * body with `policyName`, the X-HubSpot-RateLimit headers, the edge's HTML gateway pages, an expired OAuth token).
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import {
  createFaults,
  createRecorder,
  latency,
  rateLimit,
  type FaultPlan,
  type Faults,
  type Latency,
  type LimitState,
  type RateLimiter,
  type Recorder,
} from '../../../plugins/sandbox/index.js';
import type { HubSpotLimits } from './limits.js';
import { expired, TOKEN_PATH, type OAuthTokens } from './routes/oauth.js';

/**
 * The kit's pieces a HubSpot sandbox mounts, in this order: recorder, latency, faults, limiter, search limiter.
 *
 * @example
 * sandbox.faults.storm(2, 'server_error'); // the next two requests get the edge's 502 page
 * sandbox.limiter.counts().refusedBy.daily; // requests refused because the daily budget was spent
 */
export interface HubSpotTraffic {
  recorder: Recorder;
  /** Every request waits this long before it is answered (default 0). */
  latency: Latency;
  /** `rate_limited` answers 429 TEN_SECONDLY_ROLLING (as when other apps use up the window), `server_error` the
   *  edge's HTML page (502 unless the plan names another status), `unauthorized` ends every OAuth token issued. */
  faults: Faults;
  /** The rolling window and the daily budget. */
  limiter: RateLimiter;
  /** The search endpoints' requests per second. */
  searchLimiter: RateLimiter;
}

/**
 * Options of {@link hubspotTraffic}.
 *
 * @example
 * hubspotTraffic({ limits: HUBSPOT_LIMITS, tokens, now: Date.now, seed: 1 });
 */
export interface HubSpotTrafficOptions {
  limits: HubSpotLimits;
  tokens: OAuthTokens;
  now: () => number;
  seed: string | number;
  faults?: FaultPlan;
  /** Keep request bodies in the recorder (default true). */
  recordBodies?: boolean;
}

const POLICY_MESSAGES = {
  TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
  SECONDLY: 'You have reached your secondly limit.',
  DAILY: 'You have reached your daily limit.',
} as const;

/** What HubSpot's edge (Cloudflare) answers on a gateway fault: an HTML page, no JSON and no rate-limit headers. */
function gatewayPage(c: Context, status: number): Response {
  const title = `${status} ${status === 502 ? 'Bad Gateway' : status === 504 ? 'Gateway Time-out' : 'Service Temporarily Unavailable'}`;
  return c.html(
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
      '<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n',
    status as 502,
  );
}

/**
 * Builds HubSpot's limiters, faults, latency and recorder.
 *
 * @example
 * const traffic = hubspotTraffic({ limits, tokens, now, seed });
 * app.use('*', traffic.recorder).use('*', traffic.latency).use('*', traffic.faults);
 */
export function hubspotTraffic(options: HubSpotTrafficOptions): HubSpotTraffic {
  const { limits, now } = options;
  const isToken = (c: Context) => c.req.path === TOKEN_PATH;
  let last: LimitState | undefined;
  const rateHeaders = (s: LimitState | undefined): Record<string, string> => ({
    'X-HubSpot-RateLimit-Max': String(limits.requestsPerInterval),
    'X-HubSpot-RateLimit-Remaining': String(s?.policy === 'daily' ? 0 : (s?.remaining ?? limits.requestsPerInterval)),
    'X-HubSpot-RateLimit-Interval-Milliseconds': String(limits.intervalMs),
    'X-HubSpot-RateLimit-Daily': String(limits.daily),
    'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, limits.daily - (s?.dailyUsed ?? 0))),
  });
  const tooMany = (c: Context, policy: keyof typeof POLICY_MESSAGES, headers: Record<string, string>) =>
    c.json(
      {
        status: 'error',
        message: POLICY_MESSAGES[policy],
        errorType: 'RATE_LIMIT',
        correlationId: randomUUID(),
        policyName: policy,
      },
      429,
      headers,
    );
  const faults = createFaults({
    seed: options.seed,
    now,
    serverErrorStatus: 502,
    ...(options.faults ? { plan: options.faults } : {}),
    respond: {
      rate_limited: (c) => tooMany(c, 'TEN_SECONDLY_ROLLING', rateHeaders(last)),
      server_error: (c, status) => gatewayPage(c, status),
      unauthorized: (c) => {
        options.tokens.expireAll();
        return expired(c, now(), now());
      },
    },
  });
  const limiter = rateLimit({
    requests: limits.requestsPerInterval,
    intervalMs: limits.intervalMs,
    daily: limits.daily,
    now,
    skip: isToken,
    onLimited: (c, s) => tooMany(c, s.policy === 'daily' ? 'DAILY' : 'TEN_SECONDLY_ROLLING', rateHeaders(s)),
    headers: (_c, s) => rateHeaders((last = s)),
  });
  const searchLimiter = rateLimit({
    requests: limits.searchPerSecond,
    intervalMs: 1000,
    now,
    skip: (c) => !(c.req.method === 'POST' && c.req.path.endsWith('/search')),
    onLimited: (c) => tooMany(c, 'SECONDLY', rateHeaders(last)),
  });
  return {
    recorder: createRecorder({ now, bodies: options.recordBodies ?? true }),
    latency: latency({ ms: 0 }),
    faults,
    limiter,
    searchLimiter,
  };
}
