/**
 * Segments: list with size and trend, one segment (definition, profile, latest report and, for a segment with a
 * holdout, the treated-versus-control comparison), members, preview, migration.
 */
import { Hono } from 'hono';
import {
  holdoutReport,
  getStoredSegment,
  latestSegmentDefinition,
  listStoredSegments,
  previewSegment,
  SegmentRuleError,
  type RuleCondition,
} from '../../core/index.js';
import {
  migrationBetween,
  segmentMembersPage,
  segmentProfile,
  segmentRunHistory,
  type SegmentRunRow,
} from '../../core/views/index.js';
import { ApiError, jsonBody, queryOf } from './errors.js';
import { historyQuery, membersQuery, migrationQuery, previewBody } from './schemas.js';
import { paging, type Shared } from './shared.js';

const PREVIEW_KEY = '__preview__';

export function segmentRoutes(shared: Shared): Hono {
  const { deps } = shared;
  const app = new Hono();
  const definitionOf = (key: string) => deps.config.segments.find((s) => s.key === key);
  const reportOf = (run: SegmentRunRow, key: string) => run.report.segments.find((s) => s.key === key);

  app.get('/segments', async (c) => {
    const { runs: limit } = queryOf(c, historyQuery);
    const history = await segmentRunHistory(deps.store, limit);
    return c.json({
      segments: deps.config.segments.map((s) => {
        const trend = history.flatMap((run) => {
          const r = reportOf(run, s.key);
          return r
            ? [
                {
                  runId: run.id,
                  evaluatedAt: run.evaluatedAt,
                  size: r.size,
                  control: r.control,
                  entered: r.entered,
                  exited: r.exited,
                },
              ]
            : [];
        });
        const latest = trend[trend.length - 1];
        return {
          key: s.key,
          name: s.name,
          ...(s.description ? { description: s.description } : {}),
          holdout: s.holdout,
          size: latest?.size ?? null,
          evaluatedAt: latest?.evaluatedAt ?? null,
          trend,
        };
      }),
    });
  });

  app.get('/segments/migration', async (c) => {
    const q = queryOf(c, migrationQuery);
    const history = await segmentRunHistory(deps.store, 10_000);
    const to = q.to === undefined ? history[history.length - 1] : history.find((r) => r.id === q.to);
    if (!to) throw new ApiError(404, 'not_found', q.to === undefined ? 'no segment run yet' : `no segment run ${q.to}`);
    const from =
      q.from === undefined ? history.filter((r) => r.id < to.id).pop() : history.find((r) => r.id === q.from);
    if (!from)
      throw new ApiError(
        404,
        'not_found',
        q.from === undefined ? `no segment run before ${to.id}` : `no segment run ${q.from}`,
      );
    const keys = deps.config.segments.map((s) => s.key);
    return c.json({
      from: { runId: from.id, evaluatedAt: from.evaluatedAt },
      to: { runId: to.id, evaluatedAt: to.evaluatedAt },
      segments: keys,
      cells: await migrationBetween(deps.store, from.evaluatedAt, to.evaluatedAt, keys),
    });
  });

  app.post('/segments/preview', async (c) => {
    const body = await jsonBody(c, previewBody);
    try {
      const preview = await previewSegment(
        deps.store,
        PREVIEW_KEY,
        [
          ...deps.config.segments,
          ...(await listStoredSegments(deps.store)),
          { key: PREVIEW_KEY, rule: body.rule as RuleCondition },
        ],
        {
          now: shared.now(),
          customFeatures: Object.keys(deps.config.features),
          protectedAttributes: deps.config.protected_attributes,
          models: Object.keys(deps.config.models),
          sample: body.sample ?? 10,
        },
      );
      return c.json({ count: preview.count, sample: preview.sample });
    } catch (error) {
      if (error instanceof SegmentRuleError) {
        const issues = error.issues.map((i) => ({ field: i.path, message: i.message }));
        throw new ApiError(
          400,
          'invalid_rule',
          `${issues[0]?.field ?? 'rule'}: ${issues[0]?.message ?? 'invalid rule'}`,
          {
            field: issues[0]?.field ?? 'rule',
            issues,
          },
        );
      }
      throw error;
    }
  });

  app.get('/segments/:key', async (c) => {
    const key = c.req.param('key');
    const segment = definitionOf(key);
    if (!segment) throw new ApiError(404, 'not_found', `no segment "${key.slice(0, 80)}"`);
    const history = await segmentRunHistory(deps.store, 30);
    const latestRun = [...history].reverse().find((run) => reportOf(run, key));
    const stored = await latestSegmentDefinition(deps.store, key);
    return c.json({
      key,
      name: segment.name,
      ...(segment.description ? { description: segment.description } : {}),
      rule: segment.rule,
      holdout: segment.holdout,
      version: stored?.version ?? null,
      profile: await segmentProfile(deps.store, key),
      latest: latestRun
        ? {
            runId: latestRun.id,
            evaluatedAt: latestRun.evaluatedAt,
            ...reportOf(latestRun, key),
            driftAlerts: latestRun.report.driftAlerts.filter((a) => a.startsWith(`segment ${key}:`)),
          }
        : null,
      // what the segment's control group shows: the outcome of treated against held-out members over their window
      holdoutComparison:
        segment.holdout > 0
          ? await holdoutReport(deps.store, key, {
              ...segment.holdout_outcome,
              now: shared.now(),
              currency: deps.config.currency,
            })
          : null,
    });
  });

  app.get('/segments/:key/members', async (c) => {
    const key = c.req.param('key');
    if (!definitionOf(key) && !(await getStoredSegment(deps.store, key)))
      throw new ApiError(404, 'not_found', `no segment "${key.slice(0, 80)}"`);
    const q = queryOf(c, membersQuery);
    const { members, total } = await segmentMembersPage(deps.store, key, {
      ...(q.q ? { q: q.q } : {}),
      limit: q.per_page,
      offset: (q.page - 1) * q.per_page,
    });
    return c.json({ key, members, ...paging(q.page, q.per_page, total) });
  });
  return app;
}
