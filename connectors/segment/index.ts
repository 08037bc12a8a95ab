/**
 * The Segment connector: segment membership out as `identify` (membership and mapped traits) plus `track`
 * ("Segment Entered" / "Segment Exited"), account segments as `group` calls, on the official `@segment/analytics-node` SDK; plus its sandbox.
 *
 * @example
 * import { destination, startSandbox, sandboxConfig } from './connectors/segment/index.js';
 */
export * from './sandbox/index.js';
export { classifySegmentError, segmentClient, SegmentHttpError, type ClientOptions } from './client.js';
export {
  destination,
  destinationSpec,
  groupIdOf,
  messageIdFor,
  readProfilesMembership,
  userIdOf,
  MEMBERSHIP_READ_BACK,
  ENTERED,
  EXITED,
  EVENT_LIMIT_BYTES,
  REQUEST_LIMIT_BYTES,
  type DestinationConfig,
} from './destination.js';
