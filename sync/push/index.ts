/**
 * Pushing segment membership to a destination: the planner's adds (with their mapped traits), trait updates and
 * removes are sent at the destination's batch size, each batch's row results recorded in delivered state in one
 * transaction, retryable rows retried with backoff, and a segment whose destination fails is reported while the other
 * segments finish. Account segments likewise against the account delivered state. With `emptying`, every member a
 * destination holds is sent their exit (an archived segment emptied in the tools: see emptySegment in sync/jobs).
 */
export {
  pushSegments,
  segmentOutcome,
  type PushSegmentsOptions,
  type PushOutcome,
  type SegmentPushOutcome,
  type PushSample,
} from './push-segments.js';
export { pushAccountSegments, type AccountPushOutcome, type PushAccountSegmentsOptions } from './push-accounts.js';
