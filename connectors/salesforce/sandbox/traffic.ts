/**
 * Salesforce's traffic rules built from the sandbox kit: the daily API request allocation (403
 * REQUEST_LIMIT_EXCEEDED, `Sforce-Limit-Info` on every answer), faults and the recorder, each rendered in
 * Salesforce's shapes.
 */
import {
  createFaults,
  createRecorder,
  rateLimit,
  type FaultPlan,
  type Faults,
  type RateLimiter,
  type Recorder,
} from '../../../plugins/sandbox/index.js';
import { errorResponse } from './answers.js';
import { ApiError, type OrgLimits } from './org.js';

/**
 * The kit's pieces a Salesforce sandbox mounts: the recorder on every request; faults, then the limiter, on the
 * REST API (`/services/data`).
 *
 * @example
 * sandbox.faults.storm(2); // the next two API calls answer 403 REQUEST_LIMIT_EXCEEDED (ConcurrentPerOrgLongTxn)
 * sandbox.limiter.consume(sandbox.org.limits.dailyRequests); // today's allocation spent
 */
export interface SalesforceTraffic {
  recorder: Recorder;
  /**
   * `rate_limited` answers 403 REQUEST_LIMIT_EXCEEDED "ConcurrentPerOrgLongTxn Limit exceeded." (the concurrent
   * long-running request limit, which shares the daily limit's code and passes in seconds), `server_error` 503
   * SERVER_UNAVAILABLE, `unauthorized` ends every session and answers 401 INVALID_SESSION_ID.
   */
  faults: Faults;
  /** The daily API request allocation. */
  limiter: RateLimiter;
}

/**
 * Options of {@link salesforceTraffic}.
 *
 * @example
 * salesforceTraffic({ limits: org.limits, sessions, now: clock, seed: 1 });
 */
export interface SalesforceTrafficOptions {
  limits: OrgLimits;
  /** The open sessions; an `unauthorized` fault ends them all. */
  sessions: Set<string>;
  /** The org's clock (the daily allocation runs on its days). */
  now: () => number;
  seed: string | number;
  faults?: FaultPlan;
}

/**
 * Builds Salesforce's limiter, faults and recorder.
 *
 * @example
 * const traffic = salesforceTraffic({ limits, sessions, now, seed });
 * api.use('*', traffic.faults).use('*', traffic.limiter);
 */
export function salesforceTraffic(options: SalesforceTrafficOptions): SalesforceTraffic {
  const { limits } = options;
  return {
    recorder: createRecorder(),
    faults: createFaults({
      seed: options.seed,
      ...(options.faults ? { plan: options.faults } : {}),
      respond: {
        rate_limited: (c) =>
          errorResponse(c, new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.')),
        server_error: (c, status) =>
          errorResponse(c, new ApiError(status, 'SERVER_UNAVAILABLE', 'Service temporarily unavailable')),
        unauthorized: (c) => {
          options.sessions.clear();
          return errorResponse(c, new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid'));
        },
      },
    }),
    limiter: rateLimit({
      daily: limits.dailyRequests,
      now: options.now,
      onLimited: (c) => errorResponse(c, new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.')),
      headers: (_c, s) => ({ 'Sforce-Limit-Info': `api-usage=${s.dailyUsed}/${limits.dailyRequests}` }),
    }),
  };
}
