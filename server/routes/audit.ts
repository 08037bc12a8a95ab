/** GET /audit: the data audit and fairness report (filled in by the audit work). */
import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';

export function auditRoutes(_deps: ServerDeps): Hono {
  return new Hono();
}
