/**
 * GET /audit: the data audit and fairness report, the same report `segflow audit --json` prints; the headers
 * `X-Audit-Built-At`, `X-Audit-Took-Ms` and `X-Audit-Fresh` say when it was built and how long that took. The last
 * report built with the same options is kept in the store and answered at once; `fresh=true` builds a new one
 * (core/audit's `buildAudit`, in a worker thread: it reads the whole store, and the API keeps answering meanwhile) and
 * keeps it, as does the first request. Query: `min_size` (a segment with fewer members is reported; default the
 * config's `audit.min_segment_size`, 100 unless set).
 */
import { Hono } from 'hono';
import {
  auditOptions,
  auditOptionsKey,
  buildAuditInWorker,
  lastAuditReport,
  saveAuditReport,
} from '../../core/index.js';
import { queryOf } from './errors.js';
import { auditQuery } from './schemas.js';
import type { Shared } from './shared.js';

export function auditRoutes(shared: Shared): Hono {
  const { deps } = shared;
  const app = new Hono();
  app.get('/audit', async (c) => {
    const q = queryOf(c, auditQuery);
    const minSegmentSize = q.min_size ?? deps.config.audit.min_segment_size;
    const options = auditOptions(deps.config, deps.registry, { now: shared.now(), minSegmentSize });
    const key = auditOptionsKey(options);
    const built = (at: string, tookMs: number, fresh: boolean) => ({
      'X-Audit-Built-At': at,
      'X-Audit-Took-Ms': String(tookMs),
      'X-Audit-Fresh': String(fresh),
    });
    if (q.fresh !== 'true') {
      const last = await lastAuditReport(deps.store, key);
      if (last) return c.json(last.report, 200, built(last.builtAt, last.tookMs, false));
    }
    const started = Date.now();
    // In a worker with its own connection: the report reads the whole store, and the API must keep answering meanwhile.
    const report = await buildAuditInWorker(deps.config.store.path, options);
    const at = new Date().toISOString();
    const tookMs = Date.now() - started;
    await saveAuditReport(deps.store, key, { report, builtAt: at, tookMs });
    return c.json(report, 200, built(at, tookMs, true));
  });
  return app;
}
