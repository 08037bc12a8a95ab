import {
  compileAccountSegments,
  type AccountSegmentDefinition,
  type CompileOptions,
  type SegmentDefinition,
} from '../segments/compile.js';
import type { Queryable } from '../store/store.js';

/** What evaluating one account segment changed. */
export interface AccountSegmentReport {
  key: string;
  size: number;
  entered: number;
  exited: number;
}

/**
 * Evaluates account segments (each one query, see `compileAccountSegments`) into `account_memberships`: accounts that
 * now match enter, those that no longer do (or were merged away) leave. `segments` are the contact segments members
 * conditions may name.
 *
 * @example
 * await evaluateAccountSegments(store, [{ key: 'quiet', rule: { feature: 'engaged_members_30d', eq: 0 } }], [], { now });
 */
export async function evaluateAccountSegments(
  store: Queryable,
  accountSegments: readonly AccountSegmentDefinition[],
  segments: readonly SegmentDefinition[],
  options: CompileOptions & { now: Date },
): Promise<AccountSegmentReport[]> {
  const compiled = compileAccountSegments(accountSegments, segments, { ...options, dialect: store.dialect });
  const at = options.now.toISOString();
  const reports: AccountSegmentReport[] = [];
  for (const segment of compiled) {
    const matching = new Set(
      ((await store.all(segment.sql, segment.params)) as { account_id: number }[]).map((r) => Number(r.account_id)),
    );
    reports.push(
      await store.transaction(async (tx) => {
        const current = new Set(
          (
            (await tx.all('SELECT account_id FROM account_memberships WHERE segment_key = ?', [segment.key])) as {
              account_id: number;
            }[]
          ).map((r) => Number(r.account_id)),
        );
        let entered = 0;
        let exited = 0;
        for (const id of matching) {
          if (current.has(id)) continue;
          await tx.run('INSERT INTO account_memberships (segment_key, account_id, entered_at) VALUES (?, ?, ?)', [
            segment.key,
            id,
            at,
          ]);
          entered++;
        }
        for (const id of current) {
          if (matching.has(id)) continue;
          await tx.run('DELETE FROM account_memberships WHERE segment_key = ? AND account_id = ?', [segment.key, id]);
          exited++;
        }
        return { key: segment.key, size: matching.size, entered, exited };
      }),
    );
  }
  return reports;
}

/** An account segment's count and a sample of its accounts, computed without saving anything. */
export interface AccountSegmentPreview {
  key: string;
  count: number;
  sample: { accountId: number; name: string | null; domain: string | null }[];
}

/**
 * Counts the accounts an account segment selects now and returns a sample (lowest ids first), saving nothing: what the
 * console's builder shows as you edit an account segment. `accountSegments` must hold `key`; `segments` are the
 * contact segments its members conditions may name.
 *
 * @example
 * const { count } = await previewAccountSegment(store, 'quiet', [{ key: 'quiet', rule: { feature: 'members', gte: 2 } }], [], { now });
 */
export async function previewAccountSegment(
  store: Queryable,
  key: string,
  accountSegments: readonly AccountSegmentDefinition[],
  segments: readonly SegmentDefinition[],
  options: CompileOptions & { sample?: number } = {},
): Promise<AccountSegmentPreview> {
  const compiled = compileAccountSegments(accountSegments, segments, { ...options, dialect: store.dialect }).find(
    (c) => c.key === key,
  );
  if (!compiled) throw new Error(`unknown account segment "${key}"`);
  const n = ((await store.get(`SELECT COUNT(*) AS n FROM (${compiled.sql}) AS s`, compiled.params)) as { n: number }).n;
  const sample = (await store.all(
    `SELECT a.id AS "accountId", a.name AS name, a.domain AS domain FROM (${compiled.sql}) AS s JOIN accounts a ON a.id = s.account_id ORDER BY a.id LIMIT ${Math.max(0, Math.floor(options.sample ?? 10))}`,
    compiled.params,
  )) as { accountId: number; name: string | null; domain: string | null }[];
  return { key, count: Number(n), sample: sample.map((a) => ({ ...a, accountId: Number(a.accountId) })) };
}

/** One change the planner offers a destination for an account segment. */
export interface PlannedAccountChange {
  op: 'add' | 'remove';
  accountId: number;
  name: string | null;
  domain: string | null;
  /** The account's ids in the destination's tool (its live identities of the given sources), lowest first. */
  externalIds: string[];
  /** For removes: the id the destination was given. */
  destinationRecordId?: string;
  /** With `createsAccounts`: a member the tool knows by an id in `sources` (lowest contact id), else any member. */
  member?: { contactId: number; email: string | null; externalIds: string[] };
  /** With `createsAccounts`: a deterministic id of this entry (its membership row) or exit (its delivered row). */
  messageId?: string;
}

/** The planned changes, and the members the destination cannot be given (no record of them in its tool). */
export interface AccountPushPlan {
  changes: PlannedAccountChange[];
  notInTool: number;
}

/**
 * Diffs an account segment's members against what `destination` was last given: adds for members it lacks (only
 * accounts the tool holds, found by their identities of `sources`, unless `createsAccounts`), removes for accounts it
 * holds that left. With `createsAccounts` each change also carries a member and a message id.
 *
 * @example
 * const plan = await planAccountPush(store, 'crm_lists', 'expansion_ready', ['hubspot']);
 */
export async function planAccountPush(
  store: Queryable,
  destination: string,
  segmentKey: string,
  sources: readonly string[],
  options: { createsAccounts?: boolean } = {},
): Promise<AccountPushPlan> {
  const marks = sources.map(() => '?').join(', ');
  const adds = (await store.all(
    `SELECT a.id, a.name, a.domain, ai.external_id, m.entered_at FROM account_memberships m
       JOIN accounts a ON a.id = m.account_id
       LEFT JOIN account_identities ai ON ai.account_id = a.id AND ai.deleted = 0 AND ai.source IN (${marks || 'NULL'})
     WHERE m.segment_key = ? AND NOT EXISTS (
       SELECT 1 FROM account_delivered d WHERE d.destination = ? AND d.segment_key = m.segment_key AND d.account_id = m.account_id)
     ORDER BY a.id, ai.id`,
    [...sources, segmentKey, destination],
  )) as { id: number; name: string | null; domain: string | null; external_id: string | null; entered_at: string }[];
  const changes: PlannedAccountChange[] = [];
  let notInTool = 0;
  for (const row of adds) {
    const last = changes.at(-1);
    if (last && last.accountId === Number(row.id)) {
      if (row.external_id !== null) last.externalIds.push(row.external_id);
      continue;
    }
    changes.push({
      op: 'add',
      accountId: Number(row.id),
      name: row.name,
      domain: row.domain,
      externalIds: row.external_id === null ? [] : [row.external_id],
      ...(options.createsAccounts ? { messageId: `${segmentKey}:${row.id}:add:${stamp(row.entered_at)}` } : {}),
    });
  }
  const offered = changes.filter((c) => {
    if (c.externalIds.length > 0 || options.createsAccounts) return true;
    notInTool++;
    return false;
  });
  const removes = (await store.all(
    `SELECT d.account_id, d.external_id, d.delivered_at, a.name, a.domain FROM account_delivered d
       LEFT JOIN accounts a ON a.id = d.account_id
     WHERE d.destination = ? AND d.segment_key = ? AND NOT EXISTS (
       SELECT 1 FROM account_memberships m WHERE m.segment_key = d.segment_key AND m.account_id = d.account_id)
     ORDER BY d.account_id`,
    [destination, segmentKey],
  )) as {
    account_id: number;
    external_id: string | null;
    delivered_at: string;
    name: string | null;
    domain: string | null;
  }[];
  for (const row of removes) {
    offered.push({
      op: 'remove',
      accountId: Number(row.account_id),
      name: row.name,
      domain: row.domain,
      externalIds: row.external_id === null ? [] : [row.external_id],
      ...(row.external_id === null ? {} : { destinationRecordId: row.external_id }),
      ...(options.createsAccounts
        ? { messageId: `${segmentKey}:${row.account_id}:remove:${stamp(row.delivered_at)}` }
        : {}),
    });
  }
  if (options.createsAccounts) await attachMembers(store, offered, sources);
  return { changes: offered, notInTool };
}

/** A timestamp column as the same text on both engines (PostgreSQL may hand back a Date). */
const stamp = (value: unknown): string => (value instanceof Date ? value.toISOString() : String(value));

/** Gives each change a member: the lowest contact id among those with an identity of `sources`, else the lowest. */
async function attachMembers(
  store: Queryable,
  changes: PlannedAccountChange[],
  sources: readonly string[],
): Promise<void> {
  const ids = [...new Set(changes.map((c) => c.accountId))];
  for (let start = 0; start < ids.length; start += 500) {
    const chunk = ids.slice(start, start + 500);
    const rows = (await store.all(
      `SELECT am.account_id, c.id AS contact_id, c.email, i.external_id FROM account_members am
         JOIN contacts c ON c.id = am.contact_id
         LEFT JOIN identities i ON i.contact_id = c.id AND i.deleted = 0 AND i.source IN (${sources.map(() => '?').join(', ') || 'NULL'})
       WHERE am.account_id IN (${chunk.map(() => '?').join(', ')})
       ORDER BY am.account_id, CASE WHEN i.external_id IS NULL THEN 1 ELSE 0 END, c.id, i.id`,
      [...sources, ...chunk],
    )) as { account_id: number; contact_id: number; email: string | null; external_id: string | null }[];
    const chosen = new Map<number, NonNullable<PlannedAccountChange['member']>>();
    for (const r of rows) {
      const account = Number(r.account_id);
      const member = chosen.get(account);
      if (member === undefined)
        chosen.set(account, {
          contactId: Number(r.contact_id),
          email: r.email,
          externalIds: r.external_id === null ? [] : [r.external_id],
        });
      else if (member.contactId === Number(r.contact_id) && r.external_id !== null)
        member.externalIds.push(r.external_id);
    }
    for (const change of changes) {
      const member = chosen.get(change.accountId);
      if (member) change.member = member;
    }
  }
}

/**
 * Records what a destination accepted: an accepted add is delivered (with the tool's record id), an accepted remove
 * is no longer; anything else is offered again on the next push.
 *
 * @example
 * await recordAccountDelivery(store, 'crm_lists', 'quiet', [{ change, accepted: true, destinationRecordId: '80000003' }], now);
 */
export async function recordAccountDelivery(
  store: Queryable,
  destination: string,
  segmentKey: string,
  outcomes: readonly { change: PlannedAccountChange; accepted: boolean; destinationRecordId?: string }[],
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  await store.transaction(async (tx) => {
    for (const { change, accepted, destinationRecordId } of outcomes) {
      if (!accepted) continue;
      if (change.op === 'remove') {
        await tx.run('DELETE FROM account_delivered WHERE destination = ? AND segment_key = ? AND account_id = ?', [
          destination,
          segmentKey,
          change.accountId,
        ]);
      } else {
        await tx.run(
          `INSERT INTO account_delivered (destination, segment_key, account_id, external_id, delivered_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (destination, segment_key, account_id) DO UPDATE SET external_id = excluded.external_id, delivered_at = excluded.delivered_at`,
          [destination, segmentKey, change.accountId, destinationRecordId ?? change.externalIds[0] ?? null, at],
        );
      }
    }
  });
}
