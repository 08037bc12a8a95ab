import type { PushMode } from '../planner/plan.js';

/** A trait that a segment rule or a feature reads, and who reads it (for the report's wording). */
export interface FieldUse {
  field: string;
  /** E.g. `segment vip`, `feature days_since_signup`. */
  usedBy: string[];
}

/** A push the config makes to a destination (the planner counts its waiting changes). */
export interface AuditPush {
  segments: readonly string[];
  mode: PushMode;
  identitiesFrom?: string;
  requireConsent?: 'email';
  maxRetries?: number;
}

/** What the audit is told about the config; everything is optional, and a missing part is audited from the store. */
export interface AuditOptions {
  /** The moment freshness and "in the future" are measured from. Default: now. */
  now?: Date;
  /** Attributes to check fairness for (config `protected_attributes`); only those present in contact traits are. */
  protectedAttributes?: readonly string[];
  /** A segment with fewer members is reported. Default 100. */
  minSegmentSize?: number;
  /** A group with fewer contacts in the base is too small to judge a selection rate by. Default 30. */
  minGroupSize?: number;
  /** More active segments than this are reported. Default 15. */
  maxActiveSegments?: number;
  /** Two segments whose Jaccard index is at least this overlap almost entirely. Default 0.9. */
  overlapJaccard?: number;
  /** A depended-on field present on fewer contacts than this share is called out. Default 0.5. */
  mostlyEmptyShare?: number;
  /** A stream whose newest cursor is older than this (ms) is stale. Default 2 days. */
  staleAfterMs?: number;
  /** The configured segments (active segments); default: every segment with stored members. */
  segments?: readonly { key: string; name?: string }[];
  /** Traits rules and features depend on. */
  fieldsUsed?: readonly FieldUse[];
  /** Streams the config reads, with the jobs that read them; streams with a checkpoint are always included. */
  streams?: readonly { connection: string; stream: string; jobs?: readonly string[] }[];
  /** Destinations in config with the pushes jobs make to them; destinations with delivered state are always included. */
  destinations?: readonly { name: string; pushes?: readonly AuditPush[] }[];
  /** Currencies with a conversion: the reporting currency and the config's rates. */
  currency?: { reporting: string; rates?: Readonly<Record<string, number>> };
  /** Identity resolution settings (role addresses, the shared-email limit), as the loader used them. */
  identity?: { roleAddresses?: readonly string[]; sharedEmailLimit?: number };
}

/**
 * The trait names a rule condition reads (`{ trait: 'country', eq: 'FR' }` anywhere in its tree).
 *
 * @example
 * traitsInRule({ all: [{ trait: 'country', eq: 'FR' }, { feature: 'frequency_all', gt: 2 }] }); // ['country']
 */
export function traitsInRule(rule: unknown): string[] {
  const found = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (typeof record.trait === 'string') found.add(record.trait);
    for (const [key, value] of Object.entries(record)) if (key !== 'trait') walk(value);
  };
  walk(rule);
  return [...found].sort();
}

/** Built-in features computed from a contact trait, with that trait. */
const FEATURE_TRAITS: Readonly<Record<string, string>> = { days_since_signup: 'created_at' };

/**
 * The traits a set of segments depends on: those their rules compare, and those behind the built-in features their
 * rules use (`days_since_signup` reads `created_at`).
 *
 * @example
 * fieldsUsedBy([{ key: 'fr', rule: { trait: 'country', eq: 'FR' } }]); // [{ field: 'country', usedBy: ['segment fr'] }]
 */
export function fieldsUsedBy(segments: readonly { key: string; rule: unknown }[]): FieldUse[] {
  const uses = new Map<string, string[]>();
  const use = (field: string, by: string) => uses.set(field, [...new Set([...(uses.get(field) ?? []), by])]);
  for (const s of segments) {
    for (const trait of traitsInRule(s.rule)) use(trait, `segment ${s.key}`);
    for (const feature of featuresInRule(s.rule)) {
      const trait = FEATURE_TRAITS[feature];
      if (trait !== undefined) use(trait, `segment ${s.key} (feature ${feature})`);
    }
  }
  return [...uses.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([field, usedBy]) => ({ field, usedBy }));
}

function featuresInRule(rule: unknown): string[] {
  const found = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (typeof record.feature === 'string') found.add(record.feature);
    for (const value of Object.values(record)) walk(value);
  };
  walk(rule);
  return [...found];
}
