/**
 * The zod schemas request bodies and query strings are validated with; /openapi.json is built from the same ones.
 */
import { z } from 'zod';
import { checkAccountCondition, checkCondition } from '../../config/schema.js';

const page = z.coerce.number().int().min(1).max(1_000_000).default(1);
const perPage = z.coerce.number().int().min(1).max(500).default(50);

export const sessionBody = z.strictObject({
  token: z.string().min(1).max(4096).describe('the admin or read-only token'),
});

export const runJobBody = z.strictObject({
  dryRun: z.boolean().optional().describe('plan the pushes only: nothing is read, computed, sent or written'),
});

export const unlockJobBody = z.strictObject({
  force: z
    .boolean()
    .optional()
    .describe("clear the lock even when its holder is a running process on the server's host"),
});

type RuleCheck = (
  value: unknown,
  path: (string | number)[],
  report: (path: (string | number)[], message: string) => void,
) => void;

/** A rule in a request body, checked by `check` as the config checks one. */
const ruleChecked =
  (check: RuleCheck) =>
  (value: unknown, ctx: z.RefinementCtx, at: (string | number)[] = []) => {
    if (value === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: at,
        message: 'expected a rule (a condition tree like { feature: monetary_365d, gt: 100 })',
      });
      return;
    }
    check(value, [], (path, message) =>
      ctx.addIssue({
        code: 'custom',
        path: [...at, ...path],
        message: message.startsWith('segflow:unknown-keys:')
          ? `unknown key (expected one of ${message.slice('segflow:unknown-keys:'.length)})`
          : message,
      }),
    );
  };

/** Checks a contact rule (`segments:`) in a request body. */
export const checkContactRule = ruleChecked(checkCondition);
/** Checks an account segment's rule (`account_segments:`) in a request body. */
export const checkAccountRule = ruleChecked((value, path, report) => checkAccountCondition(value, path, report));

/** A segment rule in a request body, checked as the config checks one. */
export const rule = z
  .unknown()
  .superRefine((value, ctx) => checkContactRule(value, ctx))
  .describe('a rule segment condition tree, as written in YAML');

/** What a segment selects: people (`contacts`, the default) or companies (`accounts`, like `account_segments:`). */
export const segmentKind = z
  .enum(['contacts', 'accounts'])
  .describe('people (a contact rule, the default) or accounts (a rule like account_segments:)');

/** A rule whose grammar depends on the body's `kind`: a contact rule, or an account segment's rule. */
export const ruleOfKind = z
  .unknown()
  .describe('the condition tree, as written in YAML: a contact rule, or an account rule when kind is accounts');

/** Checks `body.rule` against the grammar of `body.kind` (a superRefine of a body with both). */
export function checkRuleOfKind(
  body: { kind?: 'contacts' | 'accounts' | undefined; rule?: unknown },
  ctx: z.RefinementCtx,
) {
  (body.kind === 'accounts' ? checkAccountRule : checkContactRule)(body.rule, ctx, ['rule']);
}

export const previewBody = z
  .strictObject({
    kind: segmentKind.optional(),
    rule: ruleOfKind,
    sample: z.number().int().min(0).max(100).optional().describe('members to return as a sample (default 10)'),
  })
  .superRefine(checkRuleOfKind);

export const runsQuery = z.strictObject({ job: z.string().min(1).optional(), page, per_page: perPage });
export const runQuery = z.strictObject({ errors_page: page, errors_per_page: perPage });
export const membersQuery = z.strictObject({ q: z.string().max(200).optional(), page, per_page: perPage });
export const peopleQuery = z.strictObject({
  output: z.string().min(1).max(100).default('risk').describe('the model output to filter on (risk, clv, value, …)'),
  from: z.coerce.number().optional().describe('lowest value of the output (included)'),
  to: z.coerce.number().optional().describe('highest value of the output (excluded unless to_inclusive)'),
  to_inclusive: z.enum(['true', 'false']).optional(),
  label: z.string().max(200).optional().describe('only people whose output carries this label'),
  page,
  per_page: perPage,
});
export const membersCsvQuery = z.strictObject({ q: z.string().max(200).optional() });
export const migrationQuery = z.strictObject({
  from: z.coerce.number().int().positive().optional().describe('segment run id (default: the one before `to`)'),
  to: z.coerce.number().int().positive().optional().describe('segment run id (default: the latest)'),
});
export const contactsQuery = z.strictObject({ email: z.string().min(3).max(320) });
export const historyQuery = z.strictObject({ runs: z.coerce.number().int().min(1).max(500).default(30) });

export const errorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

export const activityQuery = z.strictObject({
  action: z.string().min(1).max(100).optional().describe('only this action (job.run, run.cancel, contact.erase, …)'),
  target: z.string().min(1).max(200).optional().describe('only actions on this job, run id, contact id or connection'),
  page,
  per_page: perPage,
});
export const auditQuery = z.strictObject({
  fresh: z.enum(['true', 'false']).optional().describe('build a new report instead of answering the last one kept'),
  min_size: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe("report segments with fewer members (default the config's audit.min_segment_size)"),
});
