/**
 * The admin server: the JSON API, the console and ingestion on one hono app. Re-exports only.
 */
export { createServer } from './app.js';
export type { Role } from './auth.js';
export { sessionRole, SESSION_COOKIE } from './auth.js';
export type { SchedulerStatus, ServerDeps, StartJob } from './deps.js';
export { openApiDocument, OPERATIONS } from './openapi.js';
export { listen } from './listen.js';
export { countCalls, addCallStats, type CallCounts } from './call-counts.js';
export { startJobOver, startServing, type Serving, type ServingOptions } from './serving.js';
