/**
 * Segments: list with size and trend, one segment (definition and its rule in words, where it comes from, profile,
 * size over time with entries and exits, latest report, per destination the last delivery and why members were left
 * out or refused and, for a segment with a holdout, the treated-versus-control comparison), members (a page, or all as
 * CSV), preview, migration. Config and console segments alike. An archived console segment is emptied in the tools
 * (a dry run first shows what would be removed).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import {
  holdoutReport,
  getStoredSegment,
  latestSegmentDefinition,
  listStoredSegments,
  previewAccountSegment,
  previewSegment,
  accountRuleInWords,
  ruleInWords,
  SegmentRuleError,
  type AccountCondition,
  type RuleCondition,
} from '../../core/index.js';
import { accountSegmentMembersPage, accountSegmentSizes } from '../../core/accounts/index.js';
import {
  migrationBetween,
  recentRunReports,
  segmentDeliveryReasons,
  segmentMembersPage,
  segmentProfile,
  segmentRunHistory,
  type SegmentRunRow,
} from '../../core/views/index.js';
import { emptiedSummary, emptySegment, emptyableSegment } from '../../sync/index.js';
import { noteActivity } from '../activity.js';
import { ApiError, jsonBody, queryOf } from './errors.js';
import { historyQuery, membersCsvQuery, membersQuery, migrationQuery, previewBody } from './schemas.js';
import { paging, type Shared } from './shared.js';

const PREVIEW_KEY = '__preview__';
/** How many recent runs are searched for a segment's last delivery to each destination. */
const DELIVERY_RUNS = 200;
const CSV_PAGE = 5000;

/** A CSV cell: quoted when it must be, and never read as a formula by a spreadsheet (a leading =, +, -, @). */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const emptySegmentBody = z.strictObject({
  dryRun: z
    .boolean()
    .optional()
    .describe('plan only: the removes per destination with a sample of people; nothing is sent or written'),
});

interface PushStep {
  kind: 'push';
  destination: string;
  outcome?: { dryRun?: boolean; configError?: string; segments?: ({ segment: string } & Record<string, unknown>)[] };
}

export function segmentRoutes(shared: Shared): Hono {
  const { deps } = shared;
  const app = new Hono();
  const definitionOf = (key: string) => deps.config.segments.find((s) => s.key === key);
  /** Whether `key` names an account segment, of the config or the console (its members are accounts). */
  const isAccountSegment = async (key: string) =>
    (deps.config.account_segments ?? []).some((s) => s.key === key) ||
    (await getStoredSegment(deps.store, key))?.kind === 'accounts';
  const reportOf = (run: SegmentRunRow, key: string) => run.report.segments.find((s) => s.key === key);

  app.get('/segments', async (c) => {
    const { runs: limit } = queryOf(c, historyQuery);
    const history = await segmentRunHistory(deps.store, limit);
    // the config's segments, then the console's live ones (archived ones are no longer evaluated)
    const listed = [
      ...deps.config.segments.map((s) => ({ ...s, tags: [] as string[], origin: 'config' as const })),
      ...(await listStoredSegments(deps.store)).map((s) => ({ ...s, holdout: 0, origin: 'console' as const })),
    ];
    const accountSizes = await accountSegmentSizes(deps.store);
    // account segments (config and console), listed apart: their size now, as last evaluated, and no per-run trend
    const accounts = [
      ...(deps.config.account_segments ?? []).map((s) => ({ ...s, tags: [] as string[], origin: 'config' as const })),
      ...(await listStoredSegments(deps.store, { kind: 'accounts' })).map((s) => ({
        ...s,
        origin: 'console' as const,
      })),
    ].map((s) => ({
      key: s.key,
      name: s.name,
      ...(s.description ? { description: s.description } : {}),
      kind: 'accounts' as const,
      tags: s.tags,
      holdout: 0,
      origin: s.origin,
      size: accountSizes.get(s.key) ?? null,
      evaluatedAt: null,
      trend: [],
    }));
    return c.json({
      segments: listed.map((s) => {
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
          kind: 'contacts' as const,
          tags: s.tags,
          holdout: s.holdout,
          origin: s.origin,
          size: latest?.size ?? null,
          evaluatedAt: latest?.evaluatedAt ?? null,
          trend,
        };
      }),
      accountSegments: accounts,
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
    const segments = [...deps.config.segments, ...(await listStoredSegments(deps.store))];
    const options = {
      now: shared.now(),
      customFeatures: Object.keys(deps.config.features),
      protectedAttributes: deps.config.protected_attributes,
      models: Object.keys(deps.config.models),
      sample: body.sample ?? 10,
    };
    try {
      if (body.kind === 'accounts') {
        const preview = await previewAccountSegment(
          deps.store,
          PREVIEW_KEY,
          [{ key: PREVIEW_KEY, rule: body.rule as AccountCondition }],
          segments,
          options,
        );
        return c.json({ kind: 'accounts', count: preview.count, sample: preview.sample });
      }
      const preview = await previewSegment(
        deps.store,
        PREVIEW_KEY,
        [...segments, { key: PREVIEW_KEY, rule: body.rule as RuleCondition }],
        options,
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

  /** Per destination, the last push of this segment any run made: its counts, when, by which run. */
  async function lastDeliveries(key: string) {
    const found = new Map<string, Record<string, unknown>>();
    for (const run of await recentRunReports(deps.store, DELIVERY_RUNS)) {
      const steps = ((run.report as { steps?: unknown[] } | null)?.steps ?? []) as PushStep[];
      for (const step of steps) {
        if (step.kind !== 'push' || found.has(step.destination) || step.outcome?.dryRun) continue;
        const outcome = step.outcome?.segments?.find((o) => o.segment === key);
        if (outcome)
          found.set(step.destination, {
            destination: step.destination,
            runId: run.runId,
            at: run.at,
            ...outcome,
            ...(step.outcome?.configError ? { configError: step.outcome.configError } : {}),
          });
      }
    }
    return [...found.values()];
  }

  app.get('/segments/:key', async (c) => {
    const key = c.req.param('key');
    const segment = definitionOf(key);
    const stored = segment ? undefined : await getStoredSegment(deps.store, key);
    // an account segment of the config: read-only like the config's other segments
    const accountSegment =
      segment || stored ? undefined : (deps.config.account_segments ?? []).find((a) => a.key === key);
    if (!segment && !stored && !accountSegment)
      throw new ApiError(404, 'not_found', `no segment "${key.slice(0, 80)}"`);
    const rule = (segment?.rule ?? stored?.rule ?? accountSegment!.rule) as RuleCondition;
    const kind = accountSegment ? 'accounts' : (stored?.kind ?? 'contacts');
    const fromConfig = segment ?? accountSegment;
    const history = await segmentRunHistory(deps.store, 30);
    const latestRun = [...history].reverse().find((run) => reportOf(run, key));
    const version = segment
      ? ((await latestSegmentDefinition(deps.store, key))?.version ?? null)
      : (stored?.version ?? null);
    const holdout = segment?.holdout ?? 0;
    return c.json({
      key,
      name: fromConfig ? (fromConfig.name ?? key) : stored!.name,
      ...((fromConfig?.description ?? stored?.description)
        ? { description: fromConfig?.description ?? stored?.description }
        : {}),
      kind,
      rule,
      words: kind === 'accounts' ? accountRuleInWords(rule as AccountCondition) : ruleInWords(rule),
      origin: fromConfig
        ? { kind: 'config', file: fromConfig.origin?.file, line: fromConfig.origin?.line }
        : {
            kind: 'console',
            savedBy: stored!.savedBy,
            savedAt: stored!.savedAt,
            archived: stored!.archived,
            tags: stored!.tags,
          },
      readOnly: fromConfig !== undefined,
      holdout,
      version,
      profile: await segmentProfile(deps.store, key),
      trend: history.flatMap((run) => {
        const r = reportOf(run, key);
        return r
          ? [{ runId: run.id, evaluatedAt: run.evaluatedAt, size: r.size, entered: r.entered, exited: r.exited }]
          : [];
      }),
      latest: latestRun
        ? {
            runId: latestRun.id,
            evaluatedAt: latestRun.evaluatedAt,
            ...reportOf(latestRun, key),
            driftAlerts: latestRun.report.driftAlerts.filter((a) => a.startsWith(`segment ${key}:`)),
          }
        : null,
      deliveries: await lastDeliveries(key),
      // who is left out or refused now, and why: the delivered state's reasons per destination
      reasons: await segmentDeliveryReasons(deps.store, key),
      // what the segment's control group shows: the outcome of treated against held-out members over their window
      holdoutComparison:
        segment && holdout > 0
          ? await holdoutReport(deps.store, key, {
              ...segment.holdout_outcome,
              now: shared.now(),
              currency: deps.config.currency,
            })
          : null,
    });
  });

  // Emptying an archived segment in the tools: its removes to every destination that holds members, or their plan.
  app.post('/segments/:key/empty', async (c) => {
    const key = c.req.param('key');
    const { dryRun } = await jsonBody(c, emptySegmentBody);
    noteActivity(c, { dryRun: dryRun === true });
    const found = await emptyableSegment(deps.store, deps.config, key);
    if (!found.ok)
      throw new ApiError(
        found.problem === 'unknown' ? 404 : 409,
        found.problem === 'unknown' ? 'not_found' : 'conflict',
        found.message,
      );
    const outcome = await emptySegment({
      store: deps.store,
      config: deps.config,
      registry: deps.registry,
      segment: found.segment,
      dryRun: dryRun === true,
      logger: shared.logger,
      contextFor: (name) =>
        shared.contextFor('destination', name, deps.registry.destination(deps.config.destinations[name]!.connector)),
    });
    noteActivity(c, {
      status: outcome.status,
      removed: outcome.removed,
      ...(outcome.runId === undefined ? {} : { runId: outcome.runId }),
    });
    shared.logger.info(dryRun ? 'segment emptying planned' : 'segment emptied in the tools', {
      segment: key,
      status: outcome.status,
      removed: outcome.removed,
      runId: outcome.runId,
    });
    return c.json(emptiedSummary(outcome));
  });

  // every current member (or those matching q) as CSV, read a page at a time
  app.get('/segments/:key/members.csv', async (c) => {
    const key = c.req.param('key');
    if (!definitionOf(key) && !(await isAccountSegment(key)) && !(await getStoredSegment(deps.store, key)))
      throw new ApiError(404, 'not_found', `no segment "${key.slice(0, 80)}"`);
    const q = queryOf(c, membersCsvQuery);
    if (await isAccountSegment(key)) {
      const rows = ['account_id,name,domain,members,entered_at'];
      for (let offset = 0; ; offset += CSV_PAGE) {
        const { accounts } = await accountSegmentMembersPage(deps.store, key, {
          ...(q.q ? { q: q.q } : {}),
          limit: CSV_PAGE,
          offset,
        });
        for (const a of accounts)
          rows.push([a.accountId, a.name, a.domain, a.members, a.enteredAt].map(csvCell).join(','));
        if (accounts.length < CSV_PAGE) break;
      }
      c.header('Content-Type', 'text/csv; charset=utf-8');
      c.header('Content-Disposition', `attachment; filename="${key}-accounts.csv"`);
      return c.body(`${rows.join('\r\n')}\r\n`);
    }
    const lines = ['contact_id,email,first_name,last_name,entered_at'];
    for (let offset = 0; ; offset += CSV_PAGE) {
      const { members } = await segmentMembersPage(deps.store, key, {
        ...(q.q ? { q: q.q } : {}),
        limit: CSV_PAGE,
        offset,
      });
      for (const m of members)
        lines.push([m.contactId, m.email, m.firstName, m.lastName, m.enteredAt].map(csvCell).join(','));
      if (members.length < CSV_PAGE) break;
    }
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', `attachment; filename="${key}-members.csv"`);
    return c.body(`${lines.join('\r\n')}\r\n`);
  });

  app.get('/segments/:key/members', async (c) => {
    const key = c.req.param('key');
    if (!definitionOf(key) && !(await isAccountSegment(key)) && !(await getStoredSegment(deps.store, key)))
      throw new ApiError(404, 'not_found', `no segment "${key.slice(0, 80)}"`);
    const q = queryOf(c, membersQuery);
    if (await isAccountSegment(key)) {
      // an account segment's members are accounts
      const { accounts, total } = await accountSegmentMembersPage(deps.store, key, {
        ...(q.q ? { q: q.q } : {}),
        limit: q.per_page,
        offset: (q.page - 1) * q.per_page,
      });
      return c.json({ key, kind: 'accounts', members: accounts, ...paging(q.page, q.per_page, total) });
    }
    const { members, total } = await segmentMembersPage(deps.store, key, {
      ...(q.q ? { q: q.q } : {}),
      limit: q.per_page,
      offset: (q.page - 1) * q.per_page,
    });
    return c.json({ key, members, ...paging(q.page, q.per_page, total) });
  });
  return app;
}
