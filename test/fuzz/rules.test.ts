/**
 * Property: whatever rule a client sends, the API's preview answers 200 or 400, never 500; and whatever rule reaches
 * the compiler (a segments file given to `segflow segments preview` skips the config's shape check), it compiles to a
 * query the store runs, or is refused with a SegmentRuleError naming where. On both engines.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { builtinRegistry } from '../../cli/builtins.js';
import { loadConfig, type Config } from '../../config/index.js';
import { compileSegments, RULE_OPERATORS, SegmentRuleError, type RuleCondition, type Store } from '../../core/index.js';
import type { Logger } from '../../plugins/index.js';
import { createServer } from '../../server/index.js';
import { CURRENCY, NOW, fixtureRecords, load } from '../features/fixture.js';
import { computeFeatures } from '../../core/features/index.js';
import { engines, type OpenedStore } from '../support/engines.js';
import { tempDir } from '../support/temp.js';

const ADMIN = 'fuzz-rules-admin-token-3a7c9e1b5d2f';
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const KEYS = [
  'all',
  'any',
  'not',
  'in_segment',
  'trait',
  'feature',
  'score',
  'model',
  'event',
  'count',
  'where',
  ...RULE_OPERATORS,
  'junk',
  '__proto__',
  'constructor',
];
const NAMES = ['email', 'country', 'monetary_all', 'frequency_365d', 'purchase', 'email_open', 'rfm', 'churn.risk'];

const scalar = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.constantFrom(...NAMES, '__proto__', 'toString', 'a b', '', "'; DROP TABLE contacts; --"),
  fc.constantFrom('30d', '100y', '101y', '99999999999d', '1e400d', '0ms', '2026-01-01', 'NaN'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

/** Rule-shaped values: mappings with the grammar's keys (and some that are not), nested. */
const rule = fc.letrec((tie) => ({
  cond: fc.oneof(
    { depthSize: 'small', maxDepth: 5 },
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { minKeys: 1, maxKeys: 4 }),
    fc.record({ all: fc.array(tie('cond'), { maxLength: 4 }) }),
    fc.record({ any: fc.array(tie('cond'), { maxLength: 4 }) }),
    fc.record({ not: tie('cond') }),
    fc.record({ event: fc.constantFrom('purchase', 'email_open', 'nope'), within: scalar, count: tie('value') }),
    fc.record({ trait: scalar, eq: scalar, in: fc.array(scalar, { maxLength: 3 }) }, { requiredKeys: ['trait'] }),
  ),
  value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, scalar, fc.array(scalar, { maxLength: 3 }), tie('cond')),
})).cond;

/** The rule as a client's JSON would carry it (own `__proto__` keys and all). */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

let config: Config;
beforeAll(async () => {
  const dir = tempDir('segflow-fuzz-rules-');
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `segments:\n  - key: french\n    rule: { trait: country, eq: FR }\nmodels:\n  churn: { kind: churn }\n`,
  );
  config = await loadConfig(file, { registry: builtinRegistry() });
});

describe.each(engines)('on $name', (engine) => {
  let opened: OpenedStore;
  let store: Store;
  let app: ReturnType<typeof createServer>;
  beforeAll(async () => {
    opened = await engine.open();
    store = opened.store;
    await load(store, fixtureRecords());
    await computeFeatures(store, { now: NOW, currency: CURRENCY });
    app = createServer({
      config,
      store,
      registry: builtinRegistry(),
      logger: quiet,
      env: { SEGFLOW_ADMIN_TOKEN: ADMIN },
      startJob: () => Promise.resolve({ status: 'not started' }),
      now: () => NOW,
    });
  });
  afterAll(() => opened.close());

  it('the preview answers 200 or 400 to any rule', async () => {
    await fc.assert(
      fc.asyncProperty(rule, async (r) => {
        const res = await app.request('/segments/preview', {
          method: 'POST',
          headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ rule: r }),
        });
        if (res.status !== 200 && res.status !== 400)
          throw new Error(`${res.status} ${await res.text()} for ${JSON.stringify(r)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('the compiler refuses any rule with a located issue, or compiles one the store runs', async () => {
    await fc.assert(
      fc.asyncProperty(rule, async (r) => {
        let compiled;
        try {
          [compiled] = compileSegments([{ key: 'fuzzed', rule: asJson(r) as RuleCondition }], {
            now: NOW,
            dialect: store.dialect,
            models: ['churn'],
          });
        } catch (error) {
          if (error instanceof SegmentRuleError && error.issues.every((i) => i.where && i.message)) return;
          throw error;
        }
        await store.all(compiled!.sql, compiled!.params);
      }),
      { numRuns: RUNS },
    );
  });
});
