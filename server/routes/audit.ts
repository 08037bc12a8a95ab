/**
 * GET /audit: the data audit and fairness report (core/audit's `buildAudit`, run in a worker thread) as JSON, the same
 * report `segflow audit --json` prints. Query: `min_size` (a segment with fewer members is reported; default the
 * config's `audit.min_segment_size`, 100 unless set).
 */
import { Hono } from 'hono';
import { auditOptions, buildAuditInWorker } from '../../core/index.js';
import type { ServerDeps } from '../deps.js';
import { ApiError } from './errors.js';

export function auditRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  app.get('/audit', async (c) => {
    const minSize = c.req.query('min_size');
    const minSegmentSize = minSize === undefined ? deps.config.audit.min_segment_size : Number(minSize);
    if (!Number.isInteger(minSegmentSize) || minSegmentSize < 0) {
      throw new ApiError(400, 'invalid_query', `min_size expects a whole number, got ${JSON.stringify(minSize)}`, {
        field: 'min_size',
      });
    }
    const now = deps.now?.() ?? new Date();
    // In a worker with its own connection: the report reads the whole store, and the API must keep answering meanwhile.
    return c.json(
      await buildAuditInWorker(
        deps.config.store.path,
        auditOptions(deps.config, deps.registry, { now, minSegmentSize }),
      ),
    );
  });
  return app;
}
