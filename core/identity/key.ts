/**
 * The identity key: what a store distributed over several nodes (or hash partitions) places an identity and its events
 * by (docs/SCALING.md). It is a function of what the identity is — its source and tool id, or its source and email
 * for an identity known by email alone — so it never changes when contacts merge, and a unique key that adds it means
 * exactly what it meant without it. The partitioner hashes it; it only needs to be the same for the same identity.
 *
 * @example
 * identityKey('hubspot', '101', 'ada@example.com'); // 'hubspot:101'
 * identityKey('mailchimp', null, 'ada@example.com'); // 'mailchimp:@ada@example.com'
 */
export function identityKey(source: string, externalId: string | null, email: string | null): string | null {
  if (externalId !== null) return `${source}:${externalId}`;
  return email === null ? null : `${source}:@${email}`;
}

/** {@link identityKey} in SQL over a row's `source`, `external_id` and `email` columns (for migrations' backfills). */
export const IDENTITY_KEY_SQL = `source || ':' || COALESCE(external_id, '@' || email)`;
