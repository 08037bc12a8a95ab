/**
 * GET /overview: what the console's first page shows, counted once and the same way as the audit: contacts (merged-away
 * ones left out), contacts in at least one segment (nobody twice), events, suppressions, runs, the recent runs that
 * failed or rejected rows, and the last stored audit's findings.
 */
import { Hono } from 'hono';
import { lastAuditReport, listRunPage } from '../../core/index.js';
import { contactsInAnySegment, storeTotals } from '../../core/views/index.js';
import type { Shared } from './shared.js';

/** How many recent runs the overview looks at for alerts. */
const RECENT_RUNS = 10;

export function overviewRoutes(shared: Shared): Hono {
  const { deps } = shared;
  const app = new Hono();
  app.get('/overview', async (c) => {
    const totals = await storeTotals(deps.store);
    const { runs, total } = await listRunPage(deps.store, { limit: RECENT_RUNS, offset: 0 });
    const audit = await lastAuditReport(deps.store);
    const findings = audit?.report.findings ?? [];
    return c.json({
      contacts: totals.contacts,
      contactsInAnySegment: await contactsInAnySegment(deps.store),
      events: totals.events,
      suppressions: totals.suppressions,
      segments: deps.config.segments.length,
      runs: total,
      waiting: totals.waiting,
      // a run whose pushes rejected rows, or that did not succeed: each is an alert on the overview
      attention: runs
        .filter((r) => r.status !== 'succeeded' && r.status !== 'running')
        .concat(runs.filter((r) => r.status === 'succeeded' && (r.counts.rejected ?? 0) > 0))
        .sort((a, b) => b.id - a.id)
        .map((r) => ({
          id: r.id,
          job: r.job,
          status: r.status,
          startedAt: r.startedAt,
          rejected: r.counts.rejected ?? 0,
          error: r.error === null ? null : shared.scrub(r.error),
        })),
      audit: audit
        ? {
            builtAt: audit.builtAt,
            warnings: findings.filter((f) => f.severity === 'warning').length,
            notices: findings.filter((f) => f.severity === 'notice').length,
            top: findings
              .filter((f) => f.severity === 'warning')
              .slice(0, 5)
              .map((f) => f.message),
          }
        : null,
    });
  });
  return app;
}
