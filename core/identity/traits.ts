/**
 * The trait-merge rules (survivorship): a contact's traits, email, consent and deletion from the records of its
 * identities. Per trait, the newest record's value wins (by its `updated_at`), ties broken by source then external id,
 * unless `identity.trait_priority` lists sources for that trait: then the first listed source that has a value wins
 * (the newest of its records), and only when none has one does the newest value of another source. A null does not
 * blank a trait another record has; a contact is deleted only when every one of its records is.
 *
 * @example
 * contactTraits([hubspotRecord, salesforceRecord]); // { email, consent: 'subscribed', traits: '{"city":…}', deleted: 0 }
 */
import { EMAIL_CONSENT, normaliseEmail } from '../../plugins/model/index.js';
import type { Queryable } from '../store/store.js';
import type { TraitRanks } from './options.js';

/** An identity's latest record, as the merge reads it (traits as stored JSON). */
export interface TraitRecord {
  source: string;
  external_id: string | null;
  record_updated_ms: number | null;
  traits: string;
  deleted: number;
}

/** A contact's merged traits, as the contacts table stores them. */
export interface ContactTraits {
  email: string | null;
  consent: string;
  /** Sorted-key JSON of the merged traits. */
  traits: string;
  deleted: number;
}

/** JSON with keys sorted and undefined values left out, so equal traits are equal text. */
export function sortedJson(value: Record<string, unknown>): string {
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(value).sort()) if (value[k] !== undefined) out[k] = value[k];
  return JSON.stringify(out);
}

const newestFirst = (a: TraitRecord, b: TraitRecord): number =>
  (b.record_updated_ms ?? -Infinity) - (a.record_updated_ms ?? -Infinity) ||
  (a.source < b.source ? -1 : a.source > b.source ? 1 : 0) ||
  ((a.external_id ?? '') < (b.external_id ?? '') ? -1 : 1);

/** The merged traits and, per trait, the index of the record (in newest-first order) its value came from. */
function merge(
  records: TraitRecord[],
  ranks: TraitRanks | undefined,
): { traits: Record<string, unknown>; from: Map<string, number> } {
  // A null-prototype object: a trait named `constructor` or `__proto__` is a trait like any other.
  const traits = Object.create(null) as Record<string, unknown>;
  const from = new Map<string, number>();
  const parsed = records.map((r) => JSON.parse(r.traits) as Record<string, unknown>);
  parsed.forEach((p, i) => {
    for (const k of Object.keys(p)) {
      const v = p[k];
      if (v !== null && v !== undefined && !from.has(k)) {
        traits[k] = v;
        from.set(k, i);
      }
    }
  });
  if (ranks && records.length > 1) {
    for (const [trait, rankOf] of ranks) {
      let best = -1;
      let bestRank = Infinity;
      parsed.forEach((p, i) => {
        if (!Object.hasOwn(p, trait) || p[trait] === null || p[trait] === undefined) return;
        const rank = rankOf.get((records[i] as TraitRecord).source) ?? rankOf.size;
        if (rank < bestRank) [best, bestRank] = [i, rank];
      });
      if (best >= 0) {
        traits[trait] = (parsed[best] as Record<string, unknown>)[trait];
        from.set(trait, best);
      }
    }
  }
  return { traits, from };
}

/**
 * A contact's traits from its identities' records (sorted in place, newest first), the sources of `ranks` winning for
 * the traits it lists.
 */
export function contactTraits(records: TraitRecord[], ranks?: TraitRanks): ContactTraits {
  records.sort(newestFirst);
  let traits: Record<string, unknown>;
  let json: string;
  if (records.length === 1) {
    json = (records[0] as TraitRecord).traits;
    traits = JSON.parse(json) as Record<string, unknown>;
    if (Object.values(traits).includes(null))
      json = sortedJson(Object.fromEntries(Object.entries(traits).filter(([, v]) => v !== null)));
  } else {
    traits = merge(records, ranks).traits;
    json = sortedJson(traits);
  }
  const email = normaliseEmail(typeof traits.email === 'string' ? traits.email : null);
  const consent = (EMAIL_CONSENT as readonly unknown[]).includes(traits.email_consent)
    ? (traits.email_consent as string)
    : 'unknown';
  const deleted = records.length > 0 && records.every((r) => r.deleted === 1) ? 1 : 0;
  return { email, consent, traits: json, deleted };
}

/**
 * Per trait, the record source ranks of `priority` (names of connections, write keys or record sources): a connection
 * stands for the record sources it has loaded (`connection_sources`), and `page`'s connection for the sources of the
 * page being loaded too.
 *
 * @example
 * await traitRanksOf(store, { first_name: ['crm', 'website'] }); // Map { first_name => Map { hubspot => 0, website => 1 } }
 */
export async function traitRanksOf(
  store: Queryable,
  priority: Readonly<Record<string, readonly string[]>>,
  page?: { connection: string; sources: readonly string[] },
): Promise<TraitRanks> {
  const rows = (await store.all('SELECT connection, source FROM connection_sources')) as {
    connection: string;
    source: string;
  }[];
  const sourcesOf = new Map<string, Set<string>>();
  const add = (connection: string, source: string) => {
    const set = sourcesOf.get(connection);
    if (set) set.add(source);
    else sourcesOf.set(connection, new Set([source]));
  };
  for (const r of rows) add(r.connection, r.source);
  if (page) for (const s of page.sources) add(page.connection, s);
  const ranks = new Map<string, Map<string, number>>();
  for (const trait of Object.keys(priority)) {
    const rankOf = new Map<string, number>();
    (priority[trait] ?? []).forEach((name, rank) => {
      for (const source of sourcesOf.get(name) ?? [name]) if (!rankOf.has(source)) rankOf.set(source, rank);
    });
    ranks.set(trait, rankOf);
  }
  return ranks;
}

/**
 * Where each of a contact's traits came from: the record source whose value the merge kept (the profile shows it).
 *
 * @example
 * await contactTraitSources(store, 42, config.identity.trait_priority); // { first_name: 'hubspot', plan: 'website' }
 */
export async function contactTraitSources(
  store: Queryable,
  contactId: number,
  priority?: Readonly<Record<string, readonly string[]>>,
): Promise<Record<string, string>> {
  const records = (await store.all(
    'SELECT source, external_id, record_updated_ms, traits, deleted FROM identities WHERE contact_id = ? AND seen = 1',
    [contactId],
  )) as TraitRecord[];
  records.sort(newestFirst);
  const ranks = priority ? await traitRanksOf(store, priority) : undefined;
  const { from } = merge(records, ranks);
  const sources: Record<string, string> = {};
  for (const trait of [...from.keys()].sort())
    sources[trait] = (records[from.get(trait) as number] as TraitRecord).source;
  return sources;
}
