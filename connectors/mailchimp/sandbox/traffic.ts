/**
 * Mailchimp's traffic rules built from the sandbox kit: at most `connections` requests in flight (Mailchimp's only
 * throttle: no rate-limit headers), latency held inside the connection slot, faults and the recorder, each rendered
 * in Mailchimp's shapes (problem+json, or the edge's bare HTML 403).
 */
import type { Context } from 'hono';
import {
  concurrencyLimit,
  createFaults,
  createRecorder,
  latency,
  type ConcurrencyLimiter,
  type FaultPlan,
  type Faults,
  type Latency,
  type Recorder,
} from '../../../plugins/sandbox/index.js';
import { bare403, problem } from './answers.js';
import type { MailchimpLimits } from './limits.js';

/**
 * The kit's pieces a Mailchimp sandbox mounts, in this order: recorder, connections, latency, faults.
 *
 * @example
 * sandbox.faults.set({ script: ['rate_limited', { kind: 'rate_limited', variant: 'bare403' }] }); // a 429, a bare 403
 * sandbox.connections.counts().peak; // the most requests in flight at once
 */
export interface MailchimpTraffic {
  recorder: Recorder;
  /** At most `limits.connections` requests in flight; over it a 429 (or a bare 403 with `throttleAsBare403`). */
  connections: ConcurrencyLimiter;
  /** Every request is held this long inside its connection slot. */
  latency: Latency;
  /** `rate_limited` answers a 429 problem (variant `bare403`: the edge's bare 403), `server_error` a 503 problem,
   *  `unauthorized` a 401 API Key Invalid. */
  faults: Faults;
}

/**
 * Options of {@link mailchimpTraffic}.
 *
 * @example
 * mailchimpTraffic({ limits: MAILCHIMP_LIMITS, seed: 1 });
 */
export interface MailchimpTrafficOptions {
  limits: MailchimpLimits;
  seed: string | number;
  faults?: FaultPlan;
  /** Over the connection limit, answer a bare 403 instead of 429 (Mailchimp's edge does, sometimes). */
  throttleAsBare403?: boolean;
}

/**
 * Builds Mailchimp's limiter, latency, faults and recorder.
 *
 * @example
 * const traffic = mailchimpTraffic({ limits, seed });
 * app.use('*', traffic.recorder).use('/3.0/*', traffic.connections).use('/3.0/*', traffic.latency);
 */
export function mailchimpTraffic(options: MailchimpTrafficOptions): MailchimpTraffic {
  const { limits } = options;
  const tooMany = (c: Context) =>
    problem(
      c,
      429,
      'Too Many Requests',
      `You have exceeded the limit of ${limits.connections} simultaneous connections.`,
    );
  return {
    recorder: createRecorder(),
    connections: concurrencyLimit({
      max: limits.connections,
      onLimited: (c) => (options.throttleAsBare403 ? bare403(c) : tooMany(c)),
    }),
    latency: latency({ ms: limits.latencyMs }),
    faults: createFaults({
      seed: options.seed,
      ...(options.faults ? { plan: options.faults } : {}),
      respond: {
        rate_limited: (c, _plan, fault) => (fault.variant === 'bare403' ? bare403(c) : tooMany(c)),
        server_error: (c, status) =>
          problem(c, status, 'Service Unavailable', 'The service is temporarily unavailable; try again later.'),
        unauthorized: (c) =>
          problem(
            c,
            401,
            'API Key Invalid',
            "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
          ),
      },
    }),
  };
}
