/**
 * The shape of a segflow YAML file, as zod schemas. The loader (load.ts) interpolates `${VAR}`, validates against
 * these, checks connector configs against each connector's own spec and checks cross-references.
 *
 * ```yaml
 * store:
 *   path: .segflow/segflow.db          # the default; relative to the working directory
 *   # url: ${SEGFLOW_DATABASE_URL}     # or a PostgreSQL database: postgres://user:password@host:5432/segflow
 *   # compute_connections: 2         # PostgreSQL: connections a whole-base feature computation may use (1 or 2)
 * sources:
 *   crm:                               # a connection's name, used by jobs
 *     connector: hubspot               # a built-in connector ...
 *     # plugin: "@acme/segflow-zendesk" # ... or an npm package (add `connector:` if it exports several)
 *     config:                          # checked against the connector's spec
 *       accessToken: ${HUBSPOT_TOKEN}  # ${VAR}, ${VAR:-default}; $${...} is a literal ${...}
 *     streams: [contacts, email_events] # optional subset of the connector's streams
 *     rate_limit: { requests: 100, interval: 10s, daily: 250000, concurrency: 4 }
 * destinations:
 *   crm_lists:
 *     connector: hubspot
 *     config: { accessToken: ${HUBSPOT_TOKEN} }
 *     identities_from: crm             # source whose tool ids this destination writes back to
 * segments:                            # a list, or a map keyed by segment key
 *   - include: segments/starter.yaml   # a file holding its own `segments:` section, relative to this file
 *   - key: vip
 *     name: VIP customers
 *     holdout: 10%                     # a control group that is never pushed; or, choosing what the report compares:
 *     # holdout: { share: 10%, outcome: revenue, days: 30 }   # outcome: purchases | revenue | churn
 *     rule:
 *       all:
 *         - { feature: monetary_365d, gt: 1000 }
 *         - { trait: country, in: [FR, DE] }
 *         - { trait: created_at, before: 90d }
 *         - { event: email_open, count: { gte: 2 }, within: 30d, where: { campaign: { contains: spring } } }
 *         - not: { in_segment: churned }
 *         - { model: churn.risk, lt: 0.3 }
 *     allow_protected_attributes: { age: "age-restricted product; approved by legal" }
 * account_segments:                    # accounts (companies) selected by their traits, features and members
 *   - key: quiet_firms
 *     name: Firms going quiet
 *     rule: { all: [{ feature: members, gte: 2 }, { feature: engaged_members_30d, eq: 0 }] }
 * features:
 *   big_orders_90d: { agg: count, event: purchase, where: { value: { gt: 100 } }, within: 90d }
 * models:
 *   clusters: { kind: kmeans, k: auto }  # settings are the model's own
 * currency: { reporting: EUR, rates: { USD: 0.92 } }
 * identity: { role_addresses: [info, sales], max_contacts_per_identifier: 5 }
 * protected_attributes: [gender, ethnicity, religion, age]
 * audit: { min_segment_size: 100 }     # segments with fewer members are reported by segflow audit and GET /audit
 * jobs:
 *   nightly:
 *     schedule: "0 2 * * *"            # cron, 5 or 6 fields; omit for on-demand only
 *     timezone: Europe/Paris           # IANA zone; default UTC
 *     steps:
 *       - read: { sources: [crm], mode: incremental }
 *       - compute: { segments: [vip] } # omitted lists mean everything
 *       - push: { destination: crm_lists, segments: [vip], mode: mirror, traits: { churn_risk: churn.risk },
 *                 require_consent: email, max_retries: 5, account_segments: [quiet_firms] }
 * server:
 *   host: 127.0.0.1
 *   port: 8080
 *   body_limit: 1mb
 *   admin_token_env: SEGFLOW_ADMIN_TOKEN  # tokens are only ever named, never written here
 *   read_token_env: SEGFLOW_READ_TOKEN
 *   write_keys: { website: SEGFLOW_WRITE_KEY_WEBSITE }
 *   tracking:                            # the /v1 tracking API the write keys post to
 *     cors_origins: ["https://shop.example.com"]  # browser pages allowed to post ("*": any; never the admin API)
 *     ids: workspace                     # userId/anonymousId shared by every write key (write_key: one per key)
 *     source: tracking                   # the source name what every key sends is recorded under (ids: workspace)
 *     rate_limit: { per_second: 5000, burst: 10000 }  # messages per write key; over it: 429 with Retry-After
 *     inbox: { partition: 1h, retention: 24h }  # accepted messages, dropped a whole partition at a time once loaded
 * ```
 */
import cron from 'node-cron';
import { z } from 'zod';
import {
  ACCOUNT_CONDITION_KEYS,
  ACCOUNT_SUBJECTS,
  CONDITION_KEYS,
  COUNT_OPERATORS,
  DURATION_PATTERN,
  EVENT_CONDITION_KEYS,
  FEATURE_AGGREGATES,
  HOLDOUT_OUTCOMES,
  RULE_GROUPS,
  RULE_LIMITS,
  RULE_OPERATORS,
  RULE_SUBJECTS,
  countIssue,
  operandIssue,
  windowIssue,
  type AccountCondition,
  type RuleCondition,
  type RuleScalar,
} from '../core/segments/grammar.js';

export {
  durationMs,
  HOLDOUT_OUTCOMES,
  RULE_OPERATORS as OPERATORS,
  type Comparison,
  type EventCondition,
  type RuleCondition as Condition,
  type RuleOperators as Operators,
} from '../core/segments/grammar.js';

/** Prefix of the message a strict object gives for unknown keys; the loader turns it into one located error per key. */
export const UNKNOWN_KEYS_MARK = 'segflow:unknown-keys:';

/** A strict object: unknown keys are errors, and the loader can suggest the closest allowed key. */
export function strict<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `${UNKNOWN_KEYS_MARK}${Object.keys(shape).join(',')}` : undefined,
  });
}

/** A duration written like `30d`, `12h`, `10s` or `500ms`. */
export const duration = z.string({ error: 'expected a duration like 30d, 12h, 10s or 500ms' }).regex(DURATION_PATTERN, {
  error: 'expected a duration like 30d, 12h, 10s or 500ms (units ms, s, m, h, d, w, y)',
});

/** Names of connections, jobs, segments, features and models. */
export const name = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, { error: 'expected a name of letters, digits, _ or -, starting with a letter' });

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: 'expected the NAME of an environment variable, like SEGFLOW_ADMIN_TOKEN',
});

/** A connection's rate limit override; any field left out keeps the connector's default. */
export const rateLimitSchema = strict({
  requests: z.int().positive().optional(),
  interval: duration.optional(),
  daily: z.int().positive().optional(),
  concurrency: z.int().positive().optional(),
});
export type RateLimit = z.output<typeof rateLimitSchema>;

const connectionFields = {
  connector: z.string().min(1).optional(),
  plugin: z.string().min(1).optional(),
  config: z.record(z.string(), z.unknown()).default({}),
  rate_limit: rateLimitSchema.optional(),
};

function requireConnector(
  value: { connector?: string | undefined; plugin?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (value.connector === undefined && value.plugin === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'missing "connector" (expected a built-in connector name, or `plugin:` naming an npm package)',
    });
  }
}

export const sourceSchema = strict({
  ...connectionFields,
  streams: z.array(z.string().min(1)).min(1).optional(),
}).superRefine(requireConnector);
export const destinationSchema = strict({ ...connectionFields, identities_from: name.optional() }).superRefine(
  requireConnector,
);

// ---- rules ---------------------------------------------------------------------------------------------------------

const CONDITION_KINDS = `${CONDITION_KEYS.filter((k) => !(RULE_SUBJECTS as readonly string[]).includes(k)).join(', ')}, or one of ${RULE_SUBJECTS.join(' / ')} with an operator`;

type Path = (string | number)[];
type Report = (path: Path, message: string) => void;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalar = (value: unknown): value is RuleScalar =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);

function unknownKeys(value: Record<string, unknown>, allowed: readonly string[], path: Path, report: Report): number {
  let count = 0;
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    count++;
    report([...path, key], `${UNKNOWN_KEYS_MARK}${allowed.join(',')}`);
  }
  return count;
}

function checkOperators(
  value: Record<string, unknown>,
  allowed: readonly string[],
  path: Path,
  report: Report,
): number {
  let count = 0;
  for (const op of allowed) {
    if (!(op in value)) continue;
    count++;
    const operand = value[op];
    const at = [...path, op];
    const issue = operandIssue(op, operand);
    if (issue) report(at, issue);
  }
  return count;
}

/**
 * Checks a condition tree's shape and the rule limits (depth, number of conditions, windows); field names are left to
 * the segment engine, which knows the features.
 */
export function checkCondition(value: unknown, path: Path, report: Report): void {
  const tally = { conditions: 0 };
  checkNode(value, path, report, 0, tally);
  if (tally.conditions > RULE_LIMITS.conditions)
    report(
      path,
      `the rule has ${tally.conditions} conditions, more than the limit of ${RULE_LIMITS.conditions} conditions per rule`,
    );
}

function checkNode(value: unknown, path: Path, report: Report, depth: number, tally: { conditions: number }): void {
  if (depth > RULE_LIMITS.depth)
    return report(path, `the rule is nested more than ${RULE_LIMITS.depth} levels deep (the limit on rule depth)`);
  if (!isPlainObject(value)) return report(path, `expected a condition (a mapping with ${CONDITION_KINDS})`);
  tally.conditions++;
  for (const group of RULE_GROUPS) {
    if (group in value) {
      unknownKeys(value, [group], path, report);
      const items = value[group];
      if (!Array.isArray(items) || items.length === 0)
        return report([...path, group], 'expected a non-empty list of conditions');
      items.forEach((item, i) => checkNode(item, [...path, group, i], report, depth + 1, tally));
      return;
    }
  }
  if ('not' in value) {
    unknownKeys(value, ['not'], path, report);
    return checkNode(value.not, [...path, 'not'], report, depth + 1, tally);
  }
  if ('in_segment' in value) {
    unknownKeys(value, ['in_segment'], path, report);
    if (typeof value.in_segment !== 'string' || value.in_segment === '')
      report([...path, 'in_segment'], 'expected a segment key');
    return;
  }
  if ('event' in value) {
    unknownKeys(value, EVENT_CONDITION_KEYS, path, report);
    if (typeof value.event !== 'string' || value.event === '')
      report([...path, 'event'], 'expected an event type, like email_open');
    checkOperators(value, ['within', 'before'], path, report);
    if ('count' in value) {
      const count = value.count;
      if (isPlainObject(count)) {
        const misspelt = unknownKeys(count, COUNT_OPERATORS, [...path, 'count'], report);
        if (checkOperators(count, COUNT_OPERATORS, [...path, 'count'], report) === 0 && misspelt === 0) {
          report([...path, 'count'], `expected a comparison like { lt: 2 } (one of ${COUNT_OPERATORS.join(', ')})`);
        }
      }
      const wrongCount = countIssue(count);
      if (wrongCount) report([...path, 'count'], wrongCount);
    }
    if ('where' in value) {
      const where = value.where;
      if (!isPlainObject(where))
        return report([...path, 'where'], 'expected a mapping of event property to value or comparison');
      for (const [property, filter] of Object.entries(where)) {
        if (isScalar(filter)) continue;
        if (!isPlainObject(filter)) {
          report([...path, 'where', property], 'expected a value or a comparison like { gt: 100 }');
          continue;
        }
        const misspelt = unknownKeys(filter, RULE_OPERATORS, [...path, 'where', property], report);
        if (checkOperators(filter, RULE_OPERATORS, [...path, 'where', property], report) === 0 && misspelt === 0) {
          report([...path, 'where', property], `expected a comparison (one of ${RULE_OPERATORS.join(', ')})`);
        }
      }
    }
    return;
  }
  if ('account' in value) {
    unknownKeys(value, ['account'], path, report);
    return checkAccountCondition(value.account, [...path, 'account'], report, depth + 1, tally);
  }
  const subjects = RULE_SUBJECTS.filter((subject) => subject in value);
  if (subjects.length === 0) {
    const keys = Object.keys(value);
    return report(keys.length ? [...path, keys[0] as string] : path, `${UNKNOWN_KEYS_MARK}${CONDITION_KEYS.join(',')}`);
  }
  if (subjects.length > 1)
    return report(path, `expected one of ${RULE_SUBJECTS.join(' / ')} per comparison, got ${subjects.join(' and ')}`);
  const subject = subjects[0] as (typeof RULE_SUBJECTS)[number];
  if (typeof value[subject] !== 'string' || value[subject] === '')
    report([...path, subject], `expected a ${subject} name`);
  const misspelt = unknownKeys(value, [subject, ...RULE_OPERATORS], path, report);
  if (checkOperators(value, RULE_OPERATORS, path, report) === 0 && misspelt === 0) {
    report(path, `expected an operator beside ${subject} (one of ${RULE_OPERATORS.join(', ')})`);
  }
}

/**
 * Checks an account condition's shape (a contact rule's `account:`, an account segment's rule): groups, `not`,
 * `members` (with an optional `count`) and `all_members` holding contact conditions, and trait / feature comparisons.
 */
export function checkAccountCondition(
  value: unknown,
  path: Path,
  report: Report,
  depth = 0,
  tally: { conditions: number } = { conditions: 0 },
): void {
  if (depth > RULE_LIMITS.depth)
    return report(path, `the rule is nested more than ${RULE_LIMITS.depth} levels deep (the limit on rule depth)`);
  tally.conditions++;
  if (!isPlainObject(value))
    return report(path, `expected an account condition (a mapping with one of ${ACCOUNT_CONDITION_KEYS.join(', ')})`);
  for (const group of RULE_GROUPS) {
    if (group in value) {
      unknownKeys(value, [group], path, report);
      const items = value[group];
      if (!Array.isArray(items) || items.length === 0)
        return report([...path, group], 'expected a non-empty list of account conditions');
      items.forEach((item, i) => checkAccountCondition(item, [...path, group, i], report, depth + 1, tally));
      return;
    }
  }
  if ('not' in value) {
    unknownKeys(value, ['not'], path, report);
    return checkAccountCondition(value.not, [...path, 'not'], report, depth + 1, tally);
  }
  if ('all_members' in value) {
    unknownKeys(value, ['all_members'], path, report);
    return checkNode(value.all_members, [...path, 'all_members'], report, depth + 1, tally);
  }
  if ('members' in value) {
    unknownKeys(value, ['members', 'count'], path, report);
    checkNode(value.members, [...path, 'members'], report, depth + 1, tally);
    const count = value.count;
    if (count === undefined || typeof count === 'number') return;
    if (!isPlainObject(count)) return report([...path, 'count'], 'expected a number or a comparison like { gte: 3 }');
    unknownKeys(count, COUNT_OPERATORS, [...path, 'count'], report);
    checkOperators(count, COUNT_OPERATORS, [...path, 'count'], report);
    return;
  }
  const subjects = ACCOUNT_SUBJECTS.filter((subject) => subject in value);
  if (subjects.length !== 1) {
    const keys = Object.keys(value);
    return report(
      keys.length ? [...path, keys[0] as string] : path,
      `${UNKNOWN_KEYS_MARK}${ACCOUNT_CONDITION_KEYS.join(',')}`,
    );
  }
  const subject = subjects[0] as (typeof ACCOUNT_SUBJECTS)[number];
  if (typeof value[subject] !== 'string' || value[subject] === '')
    report([...path, subject], `expected an account ${subject} name`);
  const misspelt = unknownKeys(value, [subject, ...RULE_OPERATORS], path, report);
  if (checkOperators(value, RULE_OPERATORS, path, report) === 0 && misspelt === 0) {
    report(path, `expected an operator beside ${subject} (one of ${RULE_OPERATORS.join(', ')})`);
  }
}

const condition = z.unknown().superRefine((value, ctx) => {
  checkCondition(value, [], (path, message) => ctx.addIssue({ code: 'custom', path, message }));
}) as unknown as z.ZodType<RuleCondition>;

/** A share of a segment written `10%` (or a fraction below 1), as a fraction. */
export const share = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const fraction =
    typeof value === 'number'
      ? value
      : /^\d+(\.\d+)?%$/.test(value.trim())
        ? Number(value.trim().slice(0, -1)) / 100
        : NaN;
  if (!(fraction >= 0 && fraction < 1)) {
    ctx.addIssue({ code: 'custom', message: 'expected a share like 10% (at least 0%, below 100%)' });
    return z.NEVER;
  }
  return fraction;
});

/**
 * `holdout: 10%`, or `holdout: { share: 10%, outcome: revenue, days: 30 }` to choose what the segment report compares
 * (purchases per member, revenue per member, or the share who churned: no activity of their own in the window).
 */
const holdoutObject = strict({
  share,
  outcome: z.enum(HOLDOUT_OUTCOMES).default('revenue'),
  days: z.number().int().positive().max(36_500, { error: 'expected at most 36500 days (a century)' }).default(30),
});

export const holdoutSchema = z.unknown().transform((value, ctx): z.output<typeof holdoutObject> => {
  const object = typeof value === 'object' && value !== null && !Array.isArray(value);
  const parsed = object ? holdoutObject.safeParse(value) : share.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  }
  return typeof parsed.data === 'number' ? { share: parsed.data, outcome: 'revenue', days: 30 } : parsed.data;
});
export type Holdout = z.output<typeof holdoutSchema>;

export const segmentSchema = strict({
  key: name,
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  /** Labels a job's push can pick segments by (`tag:<tag>`); console segments are exported with theirs. */
  tags: z.array(name).optional(),
  rule: condition,
  holdout: holdoutSchema.optional(),
  allow_protected_attributes: z
    .record(z.string(), z.string().min(1, { error: 'expected the reason it is allowed' }))
    .optional(),
});

const accountCondition = z.unknown().superRefine((value, ctx) => {
  checkAccountCondition(value, [], (path, message) => ctx.addIssue({ code: 'custom', path, message }));
}) as unknown as z.ZodType<AccountCondition>;

/** An account segment: a rule over accounts (their traits, features and members), pushed like a segment. */
export const accountSegmentSchema = strict({
  key: name,
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  /** Labels, as on a segment; console account segments are exported with theirs. */
  tags: z.array(name).optional(),
  rule: accountCondition,
});

// ---- features, models, the rest ------------------------------------------------------------------------------------

export const featureSchema = strict({
  agg: z.enum(FEATURE_AGGREGATES),
  event: z.string().min(1),
  property: z.string().min(1).optional(),
  where: z.record(z.string(), z.unknown()).optional(),
  within: duration
    .refine((text) => windowIssue(text) === undefined, { error: (issue) => windowIssue(issue.input) ?? 'bad window' })
    .optional(),
  description: z.string().optional(),
});
export type Feature = z.output<typeof featureSchema>;

/** A model's settings are its own; only `kind` is common. */
export const modelSchema = z.looseObject({ kind: z.string().min(1).optional() });

const currencyCode = z.string().regex(/^[A-Z]{3}$/, { error: 'expected a three-letter ISO 4217 code like EUR' });
export const currencySchema = strict({
  reporting: currencyCode.default('USD'),
  /** Units of the reporting currency one unit of each other currency is worth. */
  rates: z.record(currencyCode, z.number().positive()).default({}),
});

export type Currency = z.output<typeof currencySchema>;

const traitName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, { error: 'expected a trait name of letters, digits, _ or -' });

export const identitySchema = strict({
  role_addresses: z.array(z.string().min(1)).optional(),
  max_contacts_per_identifier: z.int().positive().optional(),
  /**
   * Per trait, the sources whose value wins, first first: source connections and ingestion write keys by name. A
   * trait not listed, or no listed source having a value, takes the most recent value.
   */
  trait_priority: z
    .record(traitName, z.array(name).min(1, { error: 'expected the sources that win, first first' }))
    .optional(),
});
export type Identity = z.output<typeof identitySchema>;

/** Attributes a rule may not use unless its segment allows them with a reason. */
export const DEFAULT_PROTECTED_ATTRIBUTES = [
  'gender',
  'ethnicity',
  'race',
  'religion',
  'age',
  'sexual_orientation',
  'disability',
  'pregnancy',
  'marital_status',
  'national_origin',
];

const cronExpression = z.string().superRefine((value, ctx) => {
  const fields = value.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    ctx.addIssue({
      code: 'custom',
      message: `{value} has ${fields} field${fields === 1 ? '' : 's'}, not a valid cron expression (expected 5 or 6 fields like "0 2 * * *")`,
    });
    return;
  }
  const detail = cron.validateDetailed(value);
  if (!detail.valid) {
    const why = detail.errors.map((e) => `${e.value ?? '?'} is not a valid ${e.field}`).join(', ');
    ctx.addIssue({
      code: 'custom',
      message: `{value} is not a valid cron expression${why ? ` (${why})` : ''} (expected 5 or 6 fields like "0 2 * * *")`,
    });
  }
});

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const timeZone = z.string().superRefine((value, ctx) => {
  if (!isTimeZone(value)) {
    ctx.addIssue({
      code: 'custom',
      message: '{value} is not a time zone (expected an IANA name like Europe/Paris or UTC){suggest-zone}',
    });
  }
});

const nameList = z.array(name).min(1);

export const readStepSchema = strict({
  sources: nameList,
  streams: z.array(z.string().min(1)).min(1).optional(),
  mode: z.enum(['full', 'incremental']).default('incremental'),
});
export const computeStepSchema = strict({
  features: z.array(z.string().min(1)).optional(),
  segments: nameList.optional(),
  models: nameList.optional(),
  /** `incremental` (default): only the contacts that changed or crossed a window edge; `full`: every contact. */
  mode: z.enum(['incremental', 'full']).optional(),
  /**
   * On workers: the slices of contacts whose features separate tasks compute side by side (default: the live workers,
   * at least 2); 1 keeps the compute one task. A run in one process computes everything at once either way.
   */
  slices: z.int().min(1).max(64).optional(),
});
export const pushStepSchema = strict({
  destination: name,
  segments: nameList.default([]),
  /** Console segments (stored in the store), by key or `tag:<tag>`, resolved when the job runs; archived ones are not pushed. */
  console_segments: z
    .array(z.string().regex(/^(tag:)?[A-Za-z][A-Za-z0-9_-]*$/))
    .min(1)
    .optional(),
  traits: z.record(z.string(), z.string().min(1)).optional(),
  /** Account segments (`account_segments:`) pushed to the destination's companies or accounts. */
  account_segments: nameList.optional(),
  mode: z.enum(['upsert', 'mirror', 'all']).default('upsert'),
  require_consent: z.enum(['email']).optional(),
  max_retries: z.int().min(0).optional(),
});
export type ReadStep = z.output<typeof readStepSchema>;
export type ComputeStep = z.output<typeof computeStepSchema>;
export type PushStep = z.output<typeof pushStepSchema>;
/** One step of a job, tagged by its only key. */
export type JobStep = { read: ReadStep } | { compute: ComputeStep } | { push: PushStep };

export const stepSchema = strict({
  read: readStepSchema.optional(),
  compute: computeStepSchema.nullable().optional(),
  push: pushStepSchema.optional(),
})
  .superRefine((step, ctx) => {
    const kinds = Object.keys(step);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `expected exactly one of read, compute or push in a step${kinds.length ? `, got ${kinds.join(' and ')}` : ''}`,
      });
    }
  })
  .transform((step): JobStep => ('compute' in step ? { compute: step.compute ?? {} } : (step as JobStep)));

export const jobSchema = strict({
  description: z.string().optional(),
  schedule: cronExpression.optional(),
  timezone: timeZone.default('UTC'),
  steps: z.array(stepSchema).min(1),
});
export type Job = z.output<typeof jobSchema>;

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i;
const SIZE_UNIT = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const;
const byteSize = z.union([z.int().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const match = SIZE.exec(value.trim());
  if (!match) {
    ctx.addIssue({ code: 'custom', message: 'expected a size like 1mb, 512kb or a number of bytes' });
    return z.NEVER;
  }
  return Math.round(Number(match[1]) * SIZE_UNIT[(match[2]?.toLowerCase() ?? 'b') as keyof typeof SIZE_UNIT]);
});

/** The tracking API (`/v1/...`) the write keys post to. */
export const trackingSchema = strict({
  /** Origins of the pages a browser may post from (`*` for any); the admin API never answers CORS. */
  cors_origins: z
    .array(
      z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, {
        error: 'expected an origin like https://shop.example.com (scheme and host, no path) or "*"',
      }),
    )
    .default([]),
  /** `workspace`: a userId is one person whichever key sent it (Segment's rule); `write_key`: one per key. */
  ids: z.enum(['workspace', 'write_key']).default('workspace'),
  /** The source name the write keys' ids and events are recorded under when `ids` is `workspace`. */
  source: name.default('tracking'),
  /** Messages per second each write key may send, and the burst it may save up. */
  rate_limit: strict({ per_second: z.number().positive(), burst: z.int().positive().optional() }).default({
    per_second: 5000,
  }),
  /**
   * The inbox of accepted messages: cut into time partitions this long, each dropped whole once its messages are
   * loaded and older than the retention (a resent messageId is a duplicate for that long).
   */
  inbox: strict({ partition: duration.default('1h'), retention: duration.default('24h') }).default({
    partition: '1h',
    retention: '24h',
  }),
});
export type TrackingSettings = z.output<typeof trackingSchema>;

export const serverSchema = strict({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.int().min(0).max(65535).default(8080),
  /** Bytes; written `1mb`, `512kb` or a number. */
  body_limit: byteSize.default(1024 ** 2),
  admin_token_env: envName.default('SEGFLOW_ADMIN_TOKEN'),
  read_token_env: envName.default('SEGFLOW_READ_TOKEN'),
  /**
   * Ingestion write keys: a name (recorded as the events' source) to the environment variable holding the key (at
   * least 24 letters, digits, "-" or "_", and not an API token's value).
   */
  write_keys: z.record(name, envName).default({}),
  /**
   * The address users reach the server at, when it differs from host and port (behind a TLS proxy). An `https://`
   * address marks the console's session cookie `Secure`.
   */
  public_url: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// address, like https://segflow.example.com' })
    .optional(),
  tracking: trackingSchema.default(trackingSchema.parse({})),
});
export type ServerSettings = z.output<typeof serverSchema>;

/** Segments under this many members are reported by the audit unless the config or a flag says otherwise. */
export const DEFAULT_MIN_SEGMENT_SIZE = 100;

/** Settings of the data audit (`segflow audit`, GET /audit); a flag or query parameter overrides them. */
export const auditSchema = strict({
  /** A segment with fewer members than this is reported as too small. */
  min_segment_size: z.int({ error: 'expected a whole number of members' }).min(0).default(DEFAULT_MIN_SEGMENT_SIZE),
});
export type AuditSettings = z.output<typeof auditSchema>;

/**
 * What segflow does with what customers write (tickets, support messages, survey comments): by default it keeps only
 * the derived language, sentiment and topic; `keep: true` keeps the text too, with emails, phone numbers and card
 * numbers redacted. `topics` tags tickets with topics found in them, `names` pinning a topic's name through one of
 * its top terms (`{ invoice: Billing }`) or its generated name. `track_properties` names the tracking API's text
 * properties (`[comment]`): a track carrying one is a `support_message` (a "Survey Responded" track a survey answer).
 */
export const textSchema = strict({
  keep: z.boolean().default(false),
  track_properties: z.array(z.string().min(1)).default([]),
  topics: strict({
    count: z.union([z.int().min(2).max(50), z.literal('auto')]).default('auto'),
    names: z.record(z.string().min(1), z.string().min(1)).default({}),
  }).optional(),
});
export type TextSettings = z.output<typeof textSchema>;

/** The SQLite file a config without `store:` uses, relative to the working directory. */
export const DEFAULT_STORE_PATH = '.segflow/segflow.db';

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
const URL_FORM = 'postgres://user:password@host:5432/database';

/** What is wrong with a PostgreSQL URL, in a sentence that never repeats it (it may hold a password). */
export function postgresUrlProblem(value: string): string | undefined {
  if (!POSTGRES_URL.test(value)) return `expected a PostgreSQL URL (${URL_FORM})`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a valid URL (expected ${URL_FORM}; characters such as @ : / in the password must be percent-encoded)`;
  }
  if (url.hostname === '') return `names no host (expected ${URL_FORM})`;
  if (url.pathname === '' || url.pathname === '/') return `names no database (expected ${URL_FORM})`;
  return undefined;
}

/**
 * The `store:` section naming `location`, a SQLite path or a PostgreSQL URL, checked as the section is: for a store
 * given outside the file (`segflow demo --store`). Throws a sentence that never repeats the URL.
 */
export function storeSectionOf(location: string): { path: string } | { url: string } {
  if (!POSTGRES_URL.test(location)) return { path: location };
  const problem = postgresUrlProblem(location);
  if (problem) throw new Error(`the store ${problem}`);
  return { url: location };
}

/**
 * `store:`: a SQLite file (`path`, the default) or a PostgreSQL database (`url`), not both. With `url`,
 * `compute_connections` is how many connections (server processes) a whole-base feature computation may use: 2 (the
 * default) splits it in two halves from 200,000 contacts, 1 keeps it on one (a server with one core, or one shared
 * with other work). The server's cores do that work, so the number is the user's, not this machine's core count; a
 * SQLite store's computation runs on this machine and uses its cores.
 */
export const storeSchema = strict({
  path: z
    .string()
    .min(1)
    .refine((value) => !POSTGRES_URL.test(value), { message: 'a PostgreSQL URL goes in `url:`, not `path:`' })
    .optional(),
  url: z
    .string()
    .min(1)
    .superRefine((value, ctx) => {
      const problem = postgresUrlProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  compute_connections: z.int().min(1).max(2).optional(),
}).superRefine((value, ctx) => {
  if (value.path !== undefined && value.url !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'set one of `path` (a SQLite file) and `url` (a PostgreSQL database), not both',
    });
  }
  if (value.compute_connections !== undefined && value.url === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['compute_connections'],
      message:
        "compute_connections is for a PostgreSQL store (`url:`): a SQLite store's computation uses this machine's cores",
    });
  }
});

/** Everything but `segments` and `account_segments`, which the loader expands (includes) and validates entry by entry. */
export const rootSchema = strict({
  store: storeSchema.default({}),
  sources: z.record(name, sourceSchema).default({}),
  destinations: z.record(name, destinationSchema).default({}),
  segments: z.unknown().optional(),
  account_segments: z.unknown().optional(),
  features: z.record(name, featureSchema).default({}),
  models: z.record(name, modelSchema).default({}),
  currency: currencySchema.default({ reporting: 'USD', rates: {} }),
  identity: identitySchema.default({}),
  protected_attributes: z.array(z.string().min(1)).default(DEFAULT_PROTECTED_ATTRIBUTES),
  jobs: z.record(name, jobSchema).default({}),
  audit: auditSchema.default({ min_segment_size: DEFAULT_MIN_SEGMENT_SIZE }),
  text: textSchema.default({ keep: false, track_properties: [] }),
  server: serverSchema.default(serverSchema.parse({})),
});
