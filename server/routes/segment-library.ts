/**
 * The segment library: the config's segments (read-only, with the file and line they were written at) and the
 * segments made in the console (stored, versioned), one list with keys unique across both. Creating, saving (from the
 * version the editor started at: a stale save is refused 409 with the current version), archiving, and YAML export
 * and import. Previews go through POST /segments/preview, which sees console segments too.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { accountSegmentSchema, name as segmentName, segmentSchema } from '../../config/schema.js';
import {
  archiveStoredSegment,
  compileAccountSegments,
  compileSegments,
  createStoredSegment,
  getStoredSegment,
  listStoredSegments,
  saveStoredSegment,
  SegmentKeyTakenError,
  SegmentRuleError,
  segmentsFileFromYaml,
  segmentsYaml,
  StaleSegmentVersionError,
  storedSegmentVersions,
  type AccountCondition,
  type RuleCondition,
  type StoredSegment,
  type StoredSegmentKind,
} from '../../core/index.js';
import { ACCOUNT_FEATURE_NAMES } from '../../core/accounts/index.js';
import { FEATURE_NAMES, SCORE_NAMES } from '../../core/features/index.js';
import { VOICE_FEATURE_NAMES } from '../../core/text/index.js';
import { accountTraitsSchema, CONTACT_TRAITS, EVENT_TYPES } from '../../plugins/model/index.js';
import { requestRole } from '../auth.js';
import { ApiError, jsonBody, queryOf } from './errors.js';
import { checkRuleOfKind, ruleOfKind, segmentKind } from './schemas.js';
import type { Shared } from './shared.js';

const segmentFields = {
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  rule: ruleOfKind,
  tags: z.array(segmentName).max(50).optional().describe('labels a job push can pick segments by (tag:<tag>)'),
};

export const createSegmentBody = z
  .strictObject({
    key: segmentName.max(100).describe('unique across config and console segments'),
    kind: segmentKind
      .optional()
      .describe('people (contacts, the default) or accounts; kept for the life of the segment'),
    ...segmentFields,
  })
  .superRefine(checkRuleOfKind);
/** The segment's kind is its own (chosen at creation): the rule is checked against it by the route. */
export const saveSegmentBody = z.strictObject({
  version: z.number().int().min(1).describe('the version the editor started from; a stale one is refused (409)'),
  ...segmentFields,
});
export const archiveSegmentBody = z.strictObject({
  version: z.number().int().min(1).describe('the version the editor started from'),
  archived: z.boolean().optional().describe('false restores an archived segment (default true)'),
});
export const libraryQuery = z.strictObject({
  archived: z.enum(['true', 'false']).optional().describe('include archived console segments'),
});
export const exportQuery = z.strictObject({
  keys: z.string().max(5000).optional().describe('comma-separated console segment keys (default all not archived)'),
});

const roleOf = (c: Context) => requestRole(c) ?? 'admin';

function consoleView(s: StoredSegment) {
  return {
    key: s.key,
    kind: s.kind,
    name: s.name,
    ...(s.description === undefined ? {} : { description: s.description }),
    rule: s.rule,
    tags: s.tags,
    origin: 'console' as const,
    readOnly: false,
    archived: s.archived,
    version: s.version,
    savedBy: s.savedBy,
    savedAt: s.savedAt,
    createdAt: s.createdAt,
  };
}

export function segmentLibraryRoutes(shared: Shared): Hono {
  const { deps } = shared;
  const app = new Hono();
  const configAccountSegments = () => deps.config.account_segments ?? [];
  const configKeys = () => [...deps.config.segments, ...configAccountSegments()].map((s) => s.key);
  const configView = (
    s: (typeof deps.config.segments)[number] | NonNullable<typeof deps.config.account_segments>[number],
    kind: StoredSegmentKind,
  ) => ({
    key: s.key,
    kind,
    name: s.name,
    ...(s.description ? { description: s.description } : {}),
    rule: s.rule,
    tags: [] as string[],
    origin: 'config' as const,
    readOnly: true,
    file: s.origin.file,
    line: s.origin.line,
  });

  /**
   * Compiles a candidate with every other segment, so in_segment, "did you mean" and the protected guard all apply: a
   * people segment with the other people segments, an account segment with the other account segments and every people
   * segment its members conditions may name.
   */
  async function checkCompiles(candidate: { key: string; kind: StoredSegmentKind; rule: unknown }): Promise<void> {
    const others = (await listStoredSegments(deps.store)).filter((s) => s.key !== candidate.key);
    const segments = [...deps.config.segments, ...others];
    const options = {
      now: shared.now(),
      customFeatures: Object.keys(deps.config.features),
      protectedAttributes: deps.config.protected_attributes,
      models: Object.keys(deps.config.models),
    };
    try {
      if (candidate.kind === 'accounts') {
        const otherAccounts = (await listStoredSegments(deps.store, { kind: 'accounts' })).filter(
          (s) => s.key !== candidate.key,
        );
        compileAccountSegments(
          [
            ...configAccountSegments(),
            ...otherAccounts.map((s) => ({ key: s.key, rule: s.rule as AccountCondition })),
            { key: candidate.key, rule: candidate.rule as AccountCondition },
          ],
          segments,
          options,
        );
      } else compileSegments([...segments, { key: candidate.key, rule: candidate.rule as RuleCondition }], options);
    } catch (error) {
      if (!(error instanceof SegmentRuleError)) throw error;
      const mine = error.issues.filter((i) => i.segment === candidate.key);
      const issues = (mine.length > 0 ? mine : error.issues).map((i) => ({ field: i.path, message: i.message }));
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
  }

  const notFound = (key: string) => new ApiError(404, 'not_found', `no segment "${key.slice(0, 80)}"`);
  const staleResponse = (c: Context, error: StaleSegmentVersionError) =>
    c.json({ error: { code: 'conflict', message: error.message, current: consoleView(error.current) } }, 409);

  // what the console's builder shows: the read-only role gets no save button
  app.get('/library/role', (c) => c.json({ role: requestRole(c) ?? null }));

  // the names the builder offers as you type: event types, features, scores, models, segments, account features
  app.get('/library/names', async (c) =>
    c.json({
      events: EVENT_TYPES,
      features: [...FEATURE_NAMES, ...VOICE_FEATURE_NAMES, ...Object.keys(deps.config.features)],
      traits: CONTACT_TRAITS,
      scores: SCORE_NAMES,
      models: Object.keys(deps.config.models),
      segments: [
        ...deps.config.segments.map((s) => s.key),
        ...(await listStoredSegments(deps.store)).map((s) => s.key),
      ],
      accountFeatures: ACCOUNT_FEATURE_NAMES,
      accountTraits: Object.keys(accountTraitsSchema.shape).filter((t) => t !== 'domains'),
    }),
  );

  app.get('/library/segments', async (c) => {
    const q = queryOf(c, libraryQuery);
    const stored = await listStoredSegments(deps.store, { archived: q.archived === 'true', kind: 'all' });
    return c.json({
      segments: [
        ...deps.config.segments.map((s) => configView(s, 'contacts')),
        ...configAccountSegments().map((s) => configView(s, 'accounts')),
        ...stored.map(consoleView),
      ],
    });
  });

  app.get('/library/segments.yaml', async (c) => {
    const q = queryOf(c, exportQuery);
    const keys = q.keys
      ?.split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    const stored = await listStoredSegments(deps.store, { archived: keys !== undefined, kind: 'all' });
    const picked = keys ? stored.filter((s) => keys.includes(s.key)) : stored;
    const missing = keys?.find((k) => !picked.some((s) => s.key === k));
    if (missing !== undefined) throw notFound(missing);
    c.header('Content-Type', 'application/yaml; charset=utf-8');
    c.header('Content-Disposition', 'attachment; filename="segments.yaml"');
    return c.body(segmentsYaml(picked, shared.now().toISOString()));
  });

  app.post('/library/segments/import', async (c) => {
    const text = await c.req.text();
    let entries: ReturnType<typeof segmentsFileFromYaml>;
    try {
      entries = segmentsFileFromYaml(text);
    } catch (error) {
      throw new ApiError(400, 'invalid_body', (error as Error).message);
    }
    const counters = { contacts: 0, accounts: 0 };
    const parsed = entries.map(({ kind, entry }) => {
      const i = counters[kind]++;
      const section = kind === 'accounts' ? 'account_segments' : 'segments';
      const result = (kind === 'accounts' ? accountSegmentSchema : segmentSchema).safeParse(entry);
      if (!result.success) {
        const issue = result.error.issues[0];
        const field = [`${section}[${i}]`, ...(issue?.path ?? []).map(String)].join('.');
        throw new ApiError(400, 'invalid_body', `${field}: ${issue?.message ?? 'invalid'}`, { field });
      }
      return { kind, ...result.data };
    });
    const reserved = configKeys();
    const outcome = { created: [] as string[], updated: [] as string[], unchanged: [] as string[] };
    for (const s of parsed) {
      if (reserved.includes(s.key))
        throw new ApiError(409, 'conflict', `segment key "${s.key}" is already used by a segment of the config file`);
      const current = await getStoredSegment(deps.store, s.key);
      if (current && current.kind !== s.kind)
        throw new ApiError(
          409,
          'conflict',
          `segment "${s.key}" is a console segment of ${current.kind === 'accounts' ? 'accounts' : 'people'}: it cannot be imported as one of ${s.kind === 'accounts' ? 'accounts' : 'people'}`,
        );
      await checkCompiles({ key: s.key, kind: s.kind, rule: s.rule });
    }
    for (const s of parsed) {
      const input = {
        name: s.name ?? s.key,
        ...(s.description === undefined ? {} : { description: s.description }),
        rule: s.rule as RuleCondition,
        tags: s.tags ?? [],
      };
      const current = await getStoredSegment(deps.store, s.key);
      if (!current) {
        await createStoredSegment(deps.store, { key: s.key, kind: s.kind, ...input }, roleOf(c), {
          now: shared.now().toISOString(),
        });
        outcome.created.push(s.key);
      } else if (
        JSON.stringify([current.name, current.description, current.rule, current.tags, current.archived]) ===
        JSON.stringify([input.name, input.description, input.rule, [...new Set(input.tags)].sort(), false])
      ) {
        outcome.unchanged.push(s.key);
      } else {
        await saveStoredSegment(deps.store, s.key, current.version, input, roleOf(c), {
          now: shared.now().toISOString(),
        });
        outcome.updated.push(s.key);
      }
    }
    return c.json(outcome);
  });

  app.post('/library/segments', async (c) => {
    const body = await jsonBody(c, createSegmentBody);
    const { key, kind = 'contacts', ...input } = body;
    if (configKeys().includes(key) || (await getStoredSegment(deps.store, key)))
      throw new ApiError(409, 'conflict', `segment key "${key}" is already used`, { field: 'key' });
    await checkCompiles({ key, kind, rule: input.rule });
    try {
      const created = await createStoredSegment(
        deps.store,
        { key, kind, ...input, rule: input.rule as RuleCondition },
        roleOf(c),
        { reservedKeys: configKeys(), now: shared.now().toISOString() },
      );
      return c.json(consoleView(created), 201);
    } catch (error) {
      if (error instanceof SegmentKeyTakenError) throw new ApiError(409, 'conflict', error.message, { field: 'key' });
      throw error;
    }
  });

  app.get('/library/segments/:key', async (c) => {
    const key = c.req.param('key');
    const fromConfig = deps.config.segments.find((s) => s.key === key);
    if (fromConfig) return c.json(configView(fromConfig, 'contacts'));
    const fromAccounts = configAccountSegments().find((s) => s.key === key);
    if (fromAccounts) return c.json(configView(fromAccounts, 'accounts'));
    const stored = await getStoredSegment(deps.store, key);
    if (!stored) throw notFound(key);
    return c.json({ ...consoleView(stored), versions: await storedSegmentVersions(deps.store, key) });
  });

  app.post('/library/segments/:key', async (c) => {
    const key = c.req.param('key');
    if (configKeys().includes(key))
      throw new ApiError(409, 'conflict', `segment "${key}" comes from the config file: edit it there`);
    const current = await getStoredSegment(deps.store, key);
    if (!current) throw notFound(key);
    const { version, ...input } = await jsonBody(
      c,
      saveSegmentBody.superRefine((body, ctx) => checkRuleOfKind({ kind: current.kind, rule: body.rule }, ctx)),
    );
    await checkCompiles({ key, kind: current.kind, rule: input.rule });
    try {
      const saved = await saveStoredSegment(
        deps.store,
        key,
        version,
        { ...input, rule: input.rule as RuleCondition },
        roleOf(c),
        { now: shared.now().toISOString() },
      );
      return c.json(consoleView(saved));
    } catch (error) {
      if (error instanceof StaleSegmentVersionError) return staleResponse(c, error);
      throw error;
    }
  });

  app.post('/library/segments/:key/archive', async (c) => {
    const key = c.req.param('key');
    if (configKeys().includes(key))
      throw new ApiError(409, 'conflict', `segment "${key}" comes from the config file: remove it there`);
    const body = await jsonBody(c, archiveSegmentBody);
    if (!(await getStoredSegment(deps.store, key))) throw notFound(key);
    try {
      const saved = await archiveStoredSegment(deps.store, key, body.version, roleOf(c), {
        archived: body.archived ?? true,
        now: shared.now().toISOString(),
      });
      return c.json(consoleView(saved));
    } catch (error) {
      if (error instanceof StaleSegmentVersionError) return staleResponse(c, error);
      throw error;
    }
  });
  return app;
}
