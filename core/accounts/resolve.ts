import { normaliseDomain, type AccountRecord, type ContactRecord } from '../../plugins/model/index.js';
import { UnionFind } from '../identity/union-find.js';
import type { Queryable } from '../store/store.js';

/** What loading a page's account records did. */
export interface AccountLoadCounts {
  inserted: number;
  updated: number;
  skipped: number;
  /** Accounts folded into another because a record's domains joined them. */
  merged: number;
}

/** Why an account record cannot be loaded, or undefined when it can. */
export function accountProblem(record: AccountRecord): string | undefined {
  if (typeof record.source !== 'string' || record.source === '') return 'account has no source';
  if (typeof record.externalId !== 'string' || record.externalId === '') return 'account has no external id';
  if (typeof record.traits !== 'object' || record.traits === null) return 'account has no traits';
  return undefined;
}

/**
 * The normalised domains an account record names: `domain`, the further `domains`, and a `website` trait.
 *
 * @example
 * accountDomains({ kind: 'account', source: 'hubspot', externalId: '1',
 *   traits: { domain: 'Acme.example', domains: ['acme-group.example'] } }); // ['acme.example', 'acme-group.example']
 */
export function accountDomains(record: Pick<AccountRecord, 'traits'>): string[] {
  const t = record.traits;
  const raw = [t.domain, ...(t.domains ?? []), typeof t.website === 'string' ? t.website : null];
  const out: string[] = [];
  for (const value of raw) {
    const d = normaliseDomain(typeof value === 'string' ? value : null);
    if (d !== null && !out.includes(d)) out.push(d);
  }
  return out;
}

const timeOf = (value: unknown): number | null => {
  if (typeof value !== 'string') return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : null;
};

/**
 * Loads account records inside the caller's transaction: upserts each tool record (an account identity) with its
 * traits and domains, replaces the member links it states, then resolves the identities it touched into accounts.
 * Identities that share a domain are one account; when a record's domains join two accounts they merge (the smaller id
 * survives, the merge is recorded with the domain that joined them). The partition does not depend on the order
 * records arrive in. An unchanged re-read changes nothing.
 *
 * @example
 * await store.transaction((tx) => loadAccountRecords(tx, [company], new Date().toISOString()));
 */
export async function loadAccountRecords(
  tx: Queryable,
  records: readonly AccountRecord[],
  now: string,
): Promise<AccountLoadCounts> {
  const counts: AccountLoadCounts = { inserted: 0, updated: 0, skipped: 0, merged: 0 };
  const latest = new Map<string, AccountRecord>();
  for (const r of records) latest.set(`${r.source}\u0000${r.externalId}`, r);
  counts.skipped += records.length - latest.size;
  const touched: number[] = [];
  for (const record of latest.values()) {
    const traits = JSON.stringify(record.traits);
    const raw = JSON.stringify(record.raw ?? {});
    const deleted = record.deleted === true ? 1 : 0;
    const updatedMs = timeOf(record.traits.updated_at);
    const existing = (await tx.get(
      'SELECT id, traits, raw, deleted FROM account_identities WHERE source = ? AND external_id = ?',
      [record.source, record.externalId],
    )) as { id: number; traits: string; raw: string; deleted: number } | undefined;
    let id: number;
    if (existing === undefined) {
      const row = (await tx.get(
        `INSERT INTO account_identities (source, external_id, traits, raw, record_updated_ms, deleted, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [record.source, record.externalId, traits, raw, updatedMs, deleted, now, now],
      )) as { id: number };
      id = Number(row.id);
      counts.inserted += 1;
    } else {
      id = Number(existing.id);
      const same = existing.traits === traits && existing.raw === raw && Number(existing.deleted) === deleted;
      if (same && record.members === undefined) {
        counts.skipped += 1;
        continue;
      }
      if (!same) {
        await tx.run(
          'UPDATE account_identities SET traits = ?, raw = ?, record_updated_ms = ?, deleted = ?, updated_at = ? WHERE id = ?',
          [traits, raw, updatedMs, deleted, now, id],
        );
        counts.updated += 1;
      } else counts.skipped += 1;
    }
    await tx.run('DELETE FROM account_domains WHERE identity_id = ?', [id]);
    if (deleted === 0) {
      for (const domain of accountDomains(record))
        await tx.run('INSERT INTO account_domains (identity_id, domain) VALUES (?, ?)', [id, domain]);
    }
    if (record.members !== undefined) {
      await tx.run("DELETE FROM account_links WHERE source = ? AND account_external_id = ? AND origin = 'account'", [
        record.source,
        record.externalId,
      ]);
      for (const member of new Set(record.members)) {
        await tx.run(
          "INSERT INTO account_links (source, account_external_id, contact_external_id, origin) VALUES (?, ?, ?, 'account') ON CONFLICT DO NOTHING",
          [record.source, record.externalId, member],
        );
      }
    }
    touched.push(id);
  }
  counts.merged = await resolveAccountIdentities(tx, touched, now);
  return counts;
}

/**
 * Records the accounts contact records name (`accountIds`, in the contact's own source), replacing what each of these
 * contact records said before. Contacts without `accountIds` are left as they are.
 *
 * @example
 * await linkContactAccounts(tx, [{ kind: 'contact', source: 'salesforce', externalId: '003…', traits: {}, accountIds: ['001…'] }]);
 */
export async function linkContactAccounts(tx: Queryable, records: readonly ContactRecord[]): Promise<void> {
  for (const record of records) {
    if (record.accountIds === undefined) continue;
    await tx.run("DELETE FROM account_links WHERE source = ? AND contact_external_id = ? AND origin = 'contact'", [
      record.source,
      record.externalId,
    ]);
    for (const accountId of new Set(record.accountIds)) {
      await tx.run(
        "INSERT INTO account_links (source, account_external_id, contact_external_id, origin) VALUES (?, ?, ?, 'contact') ON CONFLICT DO NOTHING",
        [record.source, accountId, record.externalId],
      );
    }
  }
}

interface IdentityRow {
  id: number;
  account_id: number | null;
  traits: string;
  record_updated_ms: number | null;
  deleted: number;
}

/**
 * Puts the given account identities, and every identity they are connected to through a shared domain or a shared
 * account, into accounts: one account per connected group. Returns how many accounts were merged away.
 */
export async function resolveAccountIdentities(tx: Queryable, ids: readonly number[], now: string): Promise<number> {
  if (ids.length === 0) return 0;
  // The connected group: identities sharing a domain with one in it, and every identity of an account one in it has.
  const group = new Set(ids);
  let frontier = [...ids];
  while (frontier.length > 0) {
    const marks = frontier.map(() => '?').join(', ');
    const next = (await tx.all(
      `SELECT DISTINCT other.identity_id AS id FROM account_domains mine
         JOIN account_domains other ON other.domain = mine.domain WHERE mine.identity_id IN (${marks})
       UNION
       SELECT DISTINCT b.id AS id FROM account_identities a
         JOIN account_identities b ON b.account_id = a.account_id WHERE a.id IN (${marks})`,
      [...frontier, ...frontier],
    )) as { id: number }[];
    frontier = [];
    for (const { id } of next) {
      const n = Number(id);
      if (!group.has(n)) {
        group.add(n);
        frontier.push(n);
      }
    }
  }
  const members = [...group].sort((a, b) => a - b);
  const marks = members.map(() => '?').join(', ');
  const rows = (
    (await tx.all(
      `SELECT id, account_id, traits, record_updated_ms, deleted FROM account_identities WHERE id IN (${marks}) ORDER BY id`,
      members,
    )) as IdentityRow[]
  ).map((r) => ({ ...r, id: Number(r.id), account_id: r.account_id === null ? null : Number(r.account_id) }));
  const domains = (await tx.all(
    `SELECT identity_id, domain FROM account_domains WHERE identity_id IN (${marks}) ORDER BY domain, identity_id`,
    members,
  )) as { identity_id: number; domain: string }[];

  const sets = new UnionFind(members);
  const firstWithDomain = new Map<string, number>();
  for (const d of domains) {
    const id = Number(d.identity_id);
    const first = firstWithDomain.get(d.domain);
    if (first === undefined) firstWithDomain.set(d.domain, id);
    else sets.union(first, id, 'shared domain', d.domain);
  }
  const firstInAccount = new Map<number, number>();
  for (const r of rows) {
    if (r.account_id === null) continue;
    const first = firstInAccount.get(r.account_id);
    if (first === undefined) firstInAccount.set(r.account_id, r.id);
    else sets.union(first, r.id, 'same account', String(r.account_id));
  }
  const domainsOf = new Map<number, string[]>();
  for (const d of domains)
    domainsOf.set(Number(d.identity_id), [...(domainsOf.get(Number(d.identity_id)) ?? []), d.domain]);

  let merged = 0;
  for (const identities of sets.groups(rows, (r) => r.id).values()) {
    const existing = [...new Set(identities.map((r) => r.account_id).filter((a): a is number => a !== null))].sort(
      (a, b) => a - b,
    );
    const account = survivorTraits(identities, domainsOf);
    let survivor: number;
    if (existing.length === 0) {
      const row = (await tx.get(
        'INSERT INTO accounts (name, domain, traits, deleted, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
        [account.name, account.domain, JSON.stringify(account.traits), account.deleted, now, now],
      )) as { id: number };
      survivor = Number(row.id);
    } else {
      survivor = existing[0] as number;
      await tx.run('UPDATE accounts SET name = ?, domain = ?, traits = ?, deleted = ?, updated_at = ? WHERE id = ?', [
        account.name,
        account.domain,
        JSON.stringify(account.traits),
        account.deleted,
        now,
        survivor,
      ]);
    }
    for (const loser of existing.slice(1)) {
      const theirs = new Set(
        identities.filter((r) => r.account_id === loser).flatMap((r) => domainsOf.get(r.id) ?? []),
      );
      const joining = identities
        .filter((r) => r.account_id !== loser)
        .flatMap((r) => domainsOf.get(r.id) ?? [])
        .find((d) => theirs.has(d));
      await tx.run('UPDATE account_identities SET account_id = ? WHERE account_id = ?', [survivor, loser]);
      await tx.run('UPDATE accounts SET deleted = 1, updated_at = ? WHERE id = ?', [now, loser]);
      await tx.run('DELETE FROM account_features WHERE account_id = ?', [loser]);
      await tx.run(
        'INSERT INTO account_merges (survivor_id, merged_id, reason, identifier, merged_at) VALUES (?, ?, ?, ?, ?)',
        [survivor, loser, 'shared domain', joining ?? null, now],
      );
      merged += 1;
    }
    const unassigned = identities.filter((r) => r.account_id !== survivor).map((r) => r.id);
    if (unassigned.length > 0) {
      await tx.run(
        `UPDATE account_identities SET account_id = ? WHERE id IN (${unassigned.map(() => '?').join(', ')})`,
        [survivor, ...unassigned],
      );
    }
  }
  return merged;
}

/**
 * An account's traits from its identities: each trait from the most recently updated record that has it (ties to the
 * lower identity id), so the result does not depend on load order. Deleted when every record is.
 */
function survivorTraits(
  identities: readonly IdentityRow[],
  domainsOf: ReadonlyMap<number, readonly string[]>,
): {
  name: string | null;
  domain: string | null;
  traits: Record<string, unknown>;
  deleted: number;
} {
  const live = identities.filter((r) => Number(r.deleted) === 0);
  const ordered = [...(live.length > 0 ? live : identities)].sort(
    (a, b) => (b.record_updated_ms ?? -Infinity) - (a.record_updated_ms ?? -Infinity) || a.id - b.id,
  );
  const traits: Record<string, unknown> = {};
  for (const r of ordered) {
    const own = JSON.parse(r.traits) as Record<string, unknown>;
    for (const [k, v] of Object.entries(own)) if (v !== null && v !== undefined && !(k in traits)) traits[k] = v;
  }
  const domain =
    normaliseDomain(typeof traits.domain === 'string' ? traits.domain : null) ??
    ordered.flatMap((r) => domainsOf.get(r.id) ?? [])[0] ??
    null;
  if (domain !== null) traits.domain = domain;
  return {
    name: typeof traits.name === 'string' ? traits.name : null,
    domain,
    traits,
    deleted: live.length === 0 ? 1 : 0,
  };
}

/**
 * Removes every link that names one of an erased contact's tool records (as a company's member, as the contact's own
 * account, as a tracking `group` call), inside the erasure's transaction. Returns how many links went.
 *
 * @example
 * await eraseAccountLinks(tx, [{ source: 'hubspot', externalId: '101' }]); // 2
 */
export async function eraseAccountLinks(
  tx: Queryable,
  identities: readonly { source: string; externalId: string | null }[],
): Promise<number> {
  let removed = 0;
  for (const i of identities) {
    if (i.externalId === null) continue;
    removed += (
      await tx.run('DELETE FROM account_links WHERE source = ? AND contact_external_id = ?', [i.source, i.externalId])
    ).changes;
  }
  return removed;
}
