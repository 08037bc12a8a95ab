/**
 * Real-time ingestion: the Segment-spec /v1 endpoints and tool webhooks (`ingestRoutes`), and the pipeline that turns
 * what they accept into membership changes at the destinations (`startRealtime`, started by `segflow serve`).
 */
export { ingestRoutes, type RefusedMessage } from './routes.js';
export { startRealtime, realtimeDestinations, type RealtimeHandle, type RealtimeOptions } from './realtime.js';
export {
  mapMessage,
  MESSAGE_TYPES,
  MESSAGE_LIMIT_BYTES,
  REQUEST_LIMIT_BYTES,
  type MappedMessage,
  type MessageType,
} from './segment-spec.js';
export { writeKeys, type WriteKeys } from './write-keys.js';
