/**
 * The trait-merge rules: a contact's traits, email, consent and deletion from the records of its identities. Per
 * trait, the newest record's value wins (by its `updated_at`), ties broken by source then external id; a null does
 * not blank a trait another record has; a contact is deleted only when every one of its records is.
 *
 * @example
 * contactTraits([hubspotRecord, salesforceRecord]); // { email, consent: 'subscribed', traits: '{"city":…}', deleted: 0 }
 */
import { EMAIL_CONSENT, normaliseEmail } from '../../plugins/model/index.js';

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
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) if (value[k] !== undefined) out[k] = value[k];
  return JSON.stringify(out);
}

/** A contact's traits from its identities' records (sorted in place, newest first). */
export function contactTraits(records: TraitRecord[]): ContactTraits {
  records.sort(
    (a, b) =>
      (b.record_updated_ms ?? -Infinity) - (a.record_updated_ms ?? -Infinity) ||
      (a.source < b.source ? -1 : a.source > b.source ? 1 : 0) ||
      ((a.external_id ?? '') < (b.external_id ?? '') ? -1 : 1),
  );
  let traits: Record<string, unknown>;
  let json: string;
  if (records.length === 1) {
    json = (records[0] as TraitRecord).traits;
    traits = JSON.parse(json) as Record<string, unknown>;
    if (Object.values(traits).includes(null))
      json = sortedJson(Object.fromEntries(Object.entries(traits).filter(([, v]) => v !== null)));
  } else {
    traits = {};
    for (const r of records) {
      for (const [k, v] of Object.entries(JSON.parse(r.traits) as Record<string, unknown>)) {
        if (v !== null && v !== undefined && !(k in traits)) traits[k] = v;
      }
    }
    json = sortedJson(traits);
  }
  const email = normaliseEmail(typeof traits.email === 'string' ? traits.email : null);
  const consent = (EMAIL_CONSENT as readonly unknown[]).includes(traits.email_consent)
    ? (traits.email_consent as string)
    : 'unknown';
  const deleted = records.length > 0 && records.every((r) => r.deleted === 1) ? 1 : 0;
  return { email, consent, traits: json, deleted };
}
