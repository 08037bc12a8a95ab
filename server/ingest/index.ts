/** Real-time ingestion: the Segment-spec /v1 endpoints and tool webhooks (filled in by the real-time work). */
import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';

export function ingestRoutes(_deps: ServerDeps): Hono {
  return new Hono();
}
