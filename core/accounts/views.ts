import type { Queryable } from '../store/store.js';

/** An account as its page shows it. */
export interface AccountProfile {
  id: number;
  name: string | null;
  domain: string | null;
  traits: Record<string, unknown>;
  /** The tool records it was seen as. */
  identities: { source: string; externalId: string; deleted: boolean }[];
  /** Its features as last computed (null before the first compute). */
  features: Record<string, unknown> | null;
  /** Its members (first `memberLimit`, by contact id) and how many there are. */
  members: { id: number; email: string | null; name: string | null }[];
  memberCount: number;
  /** The account segments it is in now. */
  segments: { key: string; enteredAt: string }[];
  /** The accounts merged into it, and why. */
  merges: { mergedId: number; reason: string; identifier: string | null; mergedAt: string }[];
}

const json = (value: unknown): Record<string, unknown> =>
  typeof value === 'string'
    ? (JSON.parse(value) as Record<string, unknown>)
    : ((value ?? {}) as Record<string, unknown>);

const text = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value));

/**
 * An account's page: traits, tool records, features, members, account segments and merges; undefined when there is
 * no live account of that id.
 *
 * @example
 * const acme = await accountProfile(store, 7, { memberLimit: 100 });
 */
export async function accountProfile(
  store: Queryable,
  id: number,
  options: { memberLimit?: number } = {},
): Promise<AccountProfile | undefined> {
  const account = (await store.get('SELECT id, name, domain, traits FROM accounts WHERE id = ? AND deleted = 0', [
    id,
  ])) as { id: number; name: string | null; domain: string | null; traits: string } | undefined;
  if (!account) return undefined;
  const identities = (await store.all(
    'SELECT source, external_id, deleted FROM account_identities WHERE account_id = ? ORDER BY source, external_id',
    [id],
  )) as { source: string; external_id: string; deleted: number }[];
  const features = (await store.get(
    `SELECT members, engaged_members_30d, revenue_30d, revenue_90d, revenue_365d, open_deals, last_activity_at,
       days_since_last_activity, computed_at FROM account_features WHERE account_id = ?`,
    [id],
  )) as Record<string, unknown> | undefined;
  const members = (await store.all(
    `SELECT c.id, c.email, c.traits FROM account_members am JOIN contacts c ON c.id = am.contact_id
     WHERE am.account_id = ? ORDER BY c.id LIMIT ?`,
    [id, options.memberLimit ?? 200],
  )) as { id: number; email: string | null; traits: string | null }[];
  const memberCount = Number(
    ((await store.get('SELECT COUNT(*) AS n FROM account_members WHERE account_id = ?', [id])) as { n: number }).n,
  );
  const segments = (await store.all(
    'SELECT segment_key, entered_at FROM account_memberships WHERE account_id = ? ORDER BY segment_key',
    [id],
  )) as { segment_key: string; entered_at: unknown }[];
  const merges = (await store.all(
    'SELECT merged_id, reason, identifier, merged_at FROM account_merges WHERE survivor_id = ? ORDER BY id',
    [id],
  )) as { merged_id: number; reason: string; identifier: string | null; merged_at: unknown }[];
  const nameOf = (traits: string | null) => {
    const t = json(traits);
    const full = [t.first_name, t.last_name].filter((x) => typeof x === 'string' && x !== '').join(' ');
    return full === '' ? null : full;
  };
  return {
    id: Number(account.id),
    name: account.name,
    domain: account.domain,
    traits: json(account.traits),
    identities: identities.map((i) => ({
      source: i.source,
      externalId: i.external_id,
      deleted: Number(i.deleted) === 1,
    })),
    features: features
      ? Object.fromEntries(Object.entries(features).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]))
      : null,
    members: members.map((m) => ({ id: Number(m.id), email: m.email, name: nameOf(m.traits) })),
    memberCount,
    segments: segments.map((s) => ({ key: s.segment_key, enteredAt: text(s.entered_at) })),
    merges: merges.map((m) => ({
      mergedId: Number(m.merged_id),
      reason: m.reason,
      identifier: m.identifier,
      mergedAt: text(m.merged_at),
    })),
  };
}

/**
 * Live accounts whose name or domain contains `search` (case-insensitive), largest first, at most `limit`.
 *
 * @example
 * await findAccounts(store, 'acme'); // [{ id: 7, name: 'Acme', domain: 'acme.example', members: 12 }]
 */
export async function findAccounts(
  store: Queryable,
  search: string,
  limit = 20,
): Promise<{ id: number; name: string | null; domain: string | null; members: number }[]> {
  const pattern = `%${search.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
  const rows = (await store.all(
    `SELECT a.id, a.name, a.domain, (SELECT COUNT(*) FROM account_members am WHERE am.account_id = a.id) AS members
     FROM accounts a WHERE a.deleted = 0 AND (LOWER(COALESCE(a.name, '')) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(a.domain, '')) LIKE ? ESCAPE '\\')
     ORDER BY members DESC, a.id LIMIT ?`,
    [pattern, pattern, limit],
  )) as { id: number; name: string | null; domain: string | null; members: number | string }[];
  return rows.map((r) => ({ id: Number(r.id), name: r.name, domain: r.domain, members: Number(r.members) }));
}

/**
 * How many accounts each account segment holds now (as last evaluated), by segment key; segments with none are absent.
 *
 * @example
 * (await accountSegmentSizes(store)).get('expansion_ready'); // 12
 */
export async function accountSegmentSizes(store: Queryable): Promise<Map<string, number>> {
  const rows = (await store.all('SELECT segment_key, COUNT(*) AS n FROM account_memberships GROUP BY segment_key')) as {
    segment_key: string;
    n: number;
  }[];
  return new Map(rows.map((r) => [r.segment_key, Number(r.n)]));
}

/** One account of an account segment's members page. */
export interface AccountMemberRow {
  accountId: number;
  name: string | null;
  domain: string | null;
  /** Contacts that belong to the account. */
  members: number;
  enteredAt: string;
}

/**
 * A page of an account segment's current accounts (as last evaluated), by account id, optionally only those whose
 * name or domain contains `q` (case-insensitive).
 *
 * @example
 * const { accounts, total } = await accountSegmentMembersPage(store, 'large_firms', { limit: 50, offset: 0 });
 */
export async function accountSegmentMembersPage(
  store: Queryable,
  key: string,
  options: { q?: string; limit: number; offset: number },
): Promise<{ accounts: AccountMemberRow[]; total: number }> {
  const q = options.q?.trim()
    ? `%${options.q
        .trim()
        .toLowerCase()
        .replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`
    : null;
  const where = `m.segment_key = ? AND (CAST(? AS TEXT) IS NULL
      OR LOWER(COALESCE(a.name, '')) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(a.domain, '')) LIKE ? ESCAPE '\\')`;
  const rows = (await store.all(
    `SELECT a.id, a.name, a.domain, m.entered_at,
       (SELECT COUNT(*) FROM account_members am WHERE am.account_id = a.id) AS members
     FROM account_memberships m JOIN accounts a ON a.id = m.account_id WHERE ${where} ORDER BY a.id LIMIT ? OFFSET ?`,
    [key, q, q, q, options.limit, options.offset],
  )) as { id: number; name: string | null; domain: string | null; entered_at: string; members: number | string }[];
  const total = (await store.get(
    `SELECT COUNT(*) AS n FROM account_memberships m JOIN accounts a ON a.id = m.account_id WHERE ${where}`,
    [key, q, q, q],
  )) as { n: number | string };
  return {
    accounts: rows.map((r) => ({
      accountId: Number(r.id),
      name: r.name,
      domain: r.domain,
      members: Number(r.members),
      enteredAt: r.entered_at,
    })),
    total: Number(total.n),
  };
}
