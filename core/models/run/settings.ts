/**
 * The settings of each model in the config's `models:` map, validated here (the config schema keeps them loose):
 * every mistake is reported as `models.<name>.<field>: <what is wrong> (<the fix>)`.
 */
import { z } from 'zod';

/** A model's settings are wrong; the message names `models.<name>.<field>` and says what to write instead. */
export class ModelSettingsError extends Error {
  readonly code = 'MODEL_SETTINGS';
  constructor(readonly issues: string[]) {
    super(issues.join('\n'));
    this.name = 'ModelSettingsError';
  }
}

const featureName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'expected a feature name like frequency_365d');
const features = z
  .array(featureName)
  .min(1, 'name at least one feature, e.g. [days_since_last_purchase, frequency_365d, monetary_365d]');
const positiveInt = z.number().int().positive();
const kRange = z.union(
  [
    z.literal('auto').transform(() => ({ min: 2, max: 10 })),
    positiveInt.min(1).transform((k) => ({ min: k, max: k })),
    z
      .string()
      .regex(/^\s*\d+\s*(\.\.\s*\d+\s*)?$/, 'expected a whole number (5), a range (2..10) or auto')
      .transform((text) => {
        const [a = '0', b] = text.split('..').map((s) => s.trim());
        return { min: Number(a), max: Number(b ?? a) };
      }),
  ],
  { error: 'expected a whole number (5), a range (2..10) or auto' },
);

const clusterCommon = {
  features,
  log1p: z.array(featureName).default([]),
  /** Value used for a contact whose feature is empty (e.g. days since last purchase of a non-buyer); otherwise the contact is left out. */
  fill: z.record(featureName, z.number()).default({}),
  /** Cluster names to use instead of the generated ones, keyed by the generated name or the cluster number. */
  names: z.record(z.string(), z.string().min(1)).default({}),
  components: positiveInt.optional(),
  seed: z.number().int().default(0),
};

const kmeansSettings = z.strictObject({
  kind: z.literal('kmeans'),
  ...clusterCommon,
  k: kRange.default({ min: 2, max: 10 }),
  n_init: positiveInt.default(10),
  /**
   * Rows of the seeded sample the silhouette is computed on (the k sweep of a base above 20,000 rows runs on a seeded
   * sample of 20,000).
   */
  sample: positiveInt.default(4_000),
});

const dbscanSettings = z.strictObject({
  kind: z.literal('dbscan'),
  ...clusterCommon,
  eps: z.number().positive(),
  min_samples: positiveInt.default(5),
});

const hierarchicalSettings = z.strictObject({
  kind: z.literal('hierarchical'),
  ...clusterCommon,
  k: positiveInt.min(2),
  sample: positiveInt.default(5_000),
});

const churnSettings = z.strictObject({
  kind: z.enum(['churn', 'bgnbd', 'mbgnbd']),
  /**
   * bgnbd, mbgnbd, paretonbd, or auto: the one of the three that best predicts a holdout of the last horizon_days
   * (see churn.ts).
   */
  model: z
    .enum(['auto', 'bgnbd', 'mbgnbd', 'paretonbd', 'pareto-nbd'])
    .transform((m) => (m === 'pareto-nbd' ? 'paretonbd' : m))
    .optional(),
  horizon_days: positiveInt.default(90),
  clv_horizon_days: positiveInt.default(365),
  monthly_discount_rate: z.number().min(0).max(1).default(0.01),
});

const propensitySettings = z.strictObject({
  kind: z.literal('propensity'),
  /** purchase: buys in the next N days; churn: a customer who does not buy in the next N days. */
  outcome: z.enum(['purchase', 'churn']).default('purchase'),
  horizon_days: positiveInt.default(30),
  features,
  log1p: z.array(featureName).default([]),
  /** Inverse regularisation strength, as scikit-learn's LogisticRegression(C=…). */
  c: z.number().positive().default(1),
  /** Training snapshots, one every horizon_days going back from now. */
  snapshots: positiveInt.max(52).default(6),
});

const settingsSchema = z.discriminatedUnion('kind', [
  kmeansSettings,
  dbscanSettings,
  hierarchicalSettings,
  churnSettings,
  propensitySettings,
]);

export type KMeansSettings = z.output<typeof kmeansSettings>;
export type DbscanSettings = z.output<typeof dbscanSettings>;
export type HierarchicalSettings = z.output<typeof hierarchicalSettings>;
export type ClusterSettings = KMeansSettings | DbscanSettings | HierarchicalSettings;
export type ChurnSettings = z.output<typeof churnSettings>;
export type PropensitySettings = z.output<typeof propensitySettings>;
export type ModelSettings = z.output<typeof settingsSchema>;

const KINDS = 'kmeans, dbscan, hierarchical, churn (or bgnbd / mbgnbd) or propensity';

/**
 * Validates one entry of the config's `models:` map.
 *
 * @example
 * parseModelSettings('clusters', { kind: 'kmeans', features: ['frequency_all', 'monetary_all'], k: '2..8' });
 * // { kind: 'kmeans', k: { min: 2, max: 8 }, n_init: 10, … }
 */
export function parseModelSettings(name: string, raw: unknown): ModelSettings {
  const at = (path: readonly PropertyKey[]): string => ['models', name, ...path.map(String)].join('.');
  const kind = raw !== null && typeof raw === 'object' ? (raw as { kind?: unknown }).kind : undefined;
  if (typeof kind !== 'string') throw new ModelSettingsError([`${at(['kind'])}: missing (expected one of ${KINDS})`]);
  if (!['kmeans', 'dbscan', 'hierarchical', 'churn', 'bgnbd', 'mbgnbd', 'propensity'].includes(kind)) {
    throw new ModelSettingsError([`${at(['kind'])}: unknown kind "${kind}" (expected one of ${KINDS})`]);
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ModelSettingsError(
      parsed.error.issues.map((issue) => {
        if (issue.code === 'unrecognized_keys')
          return `${at([...issue.path, issue.keys[0] ?? ''])}: unknown setting for a ${kind} model (remove it or check its spelling)`;
        if (issue.code === 'invalid_type' && issue.input === undefined)
          return `${at(issue.path)}: missing (${issue.message})`;
        return `${at(issue.path)}: ${issue.message}`;
      }),
    );
  }
  const settings = parsed.data;
  const issues: string[] = [];
  if ('log1p' in settings)
    for (const f of settings.log1p)
      if (!settings.features.includes(f))
        issues.push(`${at(['log1p'])}: "${f}" is not among the features (add it to features or remove it from log1p)`);
  if ('k' in settings && settings.kind === 'kmeans' && (settings.k.min < 2 || settings.k.max < settings.k.min)) {
    issues.push(`${at(['k'])}: the range must start at 2 or more and not end before it starts (e.g. 2..10)`);
  }
  if ('components' in settings && settings.components !== undefined && settings.components > settings.features.length) {
    issues.push(
      `${at(['components'])}: ${settings.components} principal components from ${settings.features.length} features (use at most ${settings.features.length})`,
    );
  }
  if (issues.length > 0) throw new ModelSettingsError(issues);
  return settings;
}

/** The purchase model a churn model asked for: its kind may name it, `model:` may too. */
export function purchaseModelChoice(s: ChurnSettings): 'auto' | 'bgnbd' | 'mbgnbd' | 'paretonbd' {
  return s.model ?? (s.kind === 'churn' ? 'auto' : s.kind);
}
