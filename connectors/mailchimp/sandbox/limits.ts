/**
 * Mailchimp's limits, real values by default: page, batch and segment sizes the routes enforce, the connection cap
 * the kit's concurrency limiter enforces, and the latency every answer takes.
 */

/**
 * Mailchimp's limits; each can be changed for a test or a benchmark.
 *
 * @example
 * await startSandbox({ limits: { latencyMs: 25 } });
 */
export interface MailchimpLimits {
  /** Largest `count` of a page. */
  pageSize: number;
  /** Emails per side (`members_to_add`, `members_to_remove`) of one static-segment call. */
  segmentItemsPerSide: number;
  /** Members per batch-subscribe call. */
  batchSubscribeSize: number;
  /** Simultaneous connections per API key. */
  connections: number;
  /** Every request waits this long before answering, to start with (`sandbox.latency.set` changes it). */
  latencyMs: number;
}

/**
 * Mailchimp's published limits.
 *
 * @example
 * const limits = { ...MAILCHIMP_LIMITS, connections: 2 };
 */
export const MAILCHIMP_LIMITS: MailchimpLimits = {
  pageSize: 1000,
  segmentItemsPerSide: 500,
  batchSubscribeSize: 500,
  connections: 10,
  latencyMs: 25,
};
