import { createHash } from 'node:crypto';
import type { Queryable } from '../store/store.js';
import { mappedTraitsSql } from './traits.js';

/** `upsert` adds only; `mirror` also removes who left; `all` re-sends every member and removes who left (repair). */
export const PUSH_MODES = ['upsert', 'mirror', 'all'] as const;
export type PushMode = (typeof PUSH_MODES)[number];

export interface PlanPushOptions {
  /** The destination's connection name, as delivered state keys it. */
  destination: string;
  /** Segment keys to plan. */
  segments: readonly string[];
  /** The record source(s) whose external ids address a contact in the destination (`hubspot` for HubSpot lists). */
  identitiesFrom?: string | readonly string[];
  mode: PushMode;
  /** `email`: a contact unsubscribed or cleaned in any tool is not added. */
  requireConsent?: 'email';
  /** Retries a row gets after its first attempt, over all runs; a retryable row past them is left alone. */
  maxRetries: number;
  /**
   * Traits sent with each add, by the destination's name for them: a source as parseTraitSource reads it
   * (`churn.risk`, `feature:monetary_365d`, `trait:country`). A delivered member whose values changed since they
   * were last delivered gets an `update`.
   */
  traits?: Readonly<Record<string, string>>;
  /**
   * Plans only these contacts (the real-time flusher's touched contacts), looked up by id rather than found by
   * scanning every member and delivered row of the segment. Default: everyone.
   */
  contacts?: readonly number[];
  /**
   * Plans the segment's emptying: every contact the destination holds (delivered, or retryable) is planned as a
   * remove, member or not, and nobody is added (an archived segment emptied in the tools). Default false.
   */
  everyoneLeaves?: boolean;
}

/** Who a change is about, as a destination addresses them (the contract's ContactIdentity, which core/ cannot import). */
export interface ContactIdentity {
  contactId: string;
  /** Normalised email, when known. */
  email: string | null;
  /** The contact's ids in the `identitiesFrom` source. */
  externalIds: string[];
  emailConsent?: string;
}

/** One change the planner wants sent. */
export interface PlannedChange {
  /** `update`: a delivered member whose mapped traits changed since they were delivered. */
  op: 'add' | 'remove' | 'update';
  contactId: number;
  contact: ContactIdentity;
  /** The destination's own id from an earlier delivery, for removes. */
  destinationRecordId?: string;
  /** Deterministic per change (see {@link pushMessageId}), so a re-send is recognisable as the same message. */
  messageId: string;
  /** Attempts already made at this change (non-zero for a retry of a retryable row). */
  attempts: number;
  /**
   * A digest of the contact's email and every identity it has in any source. A row the destination answers skipped
   * keeps it; the planner offers that row again only once the digest differs (the person may now be in the tool).
   */
  identityDigest: string;
  /** The mapped trait values sent with an add or an update (none for removes, or when the push maps no traits). */
  traits?: Record<string, unknown>;
  /** Their JSON text as the store computed it: delivered state keeps it, and the next plan compares it as text. */
  mappedTraits?: string;
}

/** Members the plan leaves out, and why. */
export interface PlanSkips {
  /** Suppressed (erased on request) or deleted contacts. */
  suppressed: number;
  /** Unsubscribed or cleaned in some tool, when consent is required. */
  noConsent: number;
  /** Neither an email nor an id in the `identitiesFrom` source to address them by. */
  noIdentity: number;
  /** Retryable rows (adds, removes or trait updates) that used up their retries. */
  exhausted: number;
  /** Members the destination answered skipped (not in the tool) whose identities have not changed since. */
  notInDestination: number;
}

export interface SegmentPlan {
  segmentKey: string;
  /** Adds and updates by contact id, then removes by contact id. */
  changes: PlannedChange[];
  skipped: PlanSkips;
}

const UNSUBSCRIBED = "('unsubscribed', 'cleaned')";
const IDENTITY_CHUNK = 2000;

/**
 * Diffs each segment's current membership against the delivered state of `destination`, and returns the changes to
 * send: members not yet delivered (or removed since, or whose last attempt was retryable and has retries left, or
 * who were skipped as not in the tool and whose identities changed since), updates of delivered members whose mapped
 * traits differ from what was delivered, and in `mirror` and `all` modes delivered contacts that are no longer
 * members. Reads only; changes nothing.
 *
 * @example
 * const [vip] = planPush(store, { destination: 'crm', segments: ['vip'], identitiesFrom: 'hubspot', mode: 'mirror', maxRetries: 3 });
 * vip.changes.filter((c) => c.op === 'add').length;
 */
export async function planPush(store: Queryable, options: PlanPushOptions): Promise<SegmentPlan[]> {
  const attemptCap = 1 + Math.max(0, Math.floor(options.maxRetries));
  const addressedBy = new Set(
    typeof options.identitiesFrom === 'string' ? [options.identitiesFrom] : (options.identitiesFrom ?? []),
  );
  const resendAll = options.mode === 'all' ? 1 : 0;
  const everyoneLeaves = options.everyoneLeaves === true;
  const d = store.dialect;
  const mapped = mappedTraitsSql(d, options.traits ?? {});
  const withTraits = mapped === 'NULL' ? 0 : 1;
  const contacts = options.contacts === undefined ? undefined : JSON.stringify(options.contacts);
  // With contacts, each segment's rows are read by (segment, contact) key for just those contacts.
  const only = (alias: string): string =>
    contacts === undefined
      ? ''
      : ` AND ${alias}.contact_id IN (SELECT value FROM ${d.jsonValues('?', 'integer')} AS j)`;
  const scope = contacts === undefined ? [] : [contacts];
  // Without suppressions (most stores) only the deleted flag can suppress, and consent is read only when required:
  // the look-ups they save are a third of the members query's cost per contact, paid on every real-time flush.
  const suppressions = (await store.get('SELECT 1 FROM suppressions LIMIT 1')) !== undefined;
  const suppressedSql = suppressions
    ? `CASE WHEN c.deleted <> 0
         OR EXISTS (SELECT 1 FROM suppressions s WHERE s.email = c.email)
         OR EXISTS (SELECT 1 FROM identities i JOIN suppressions s
                      ON s.email = i.email OR (s.source = i.source AND s.external_id = i.external_id)
                    WHERE i.contact_id = c.id)
         THEN 1 ELSE 0 END`
    : 'CASE WHEN c.deleted <> 0 THEN 1 ELSE 0 END';
  const unsubscribedSql =
    options.requireConsent === 'email'
      ? `CASE WHEN c.email_consent IN ${UNSUBSCRIBED}
         OR EXISTS (SELECT 1 FROM identities i WHERE i.contact_id = c.id
                      AND ${d.jsonField('i.traits', 'email_consent')} IN ${UNSUBSCRIBED})
         THEN 1 ELSE 0 END`
      : '0';
  // The mapped values are an expression of the contact `c`, written twice: SQLite evaluates the WHERE copy only for
  // delivered members, and the SELECT copy only for the rows the diff keeps.
  const members = `SELECT m.contact_id, d.status, d.attempts, d.destination_record_id, d.identity_digest, c.email, c.email_consent,
       d.update_attempts, d.delivered_at, ${mapped} AS mapped_traits,
       (SELECT MAX(h.id) FROM membership_history h
         WHERE h.segment_key = m.segment_key AND h.contact_id = m.contact_id AND h.exited_at IS NULL) AS history_id,
       (SELECT MAX(h.entered_at) FROM membership_history h
         WHERE h.segment_key = m.segment_key AND h.contact_id = m.contact_id AND h.exited_at IS NULL) AS history_at,
       ${suppressedSql} AS suppressed,
       ${unsubscribedSql} AS unsubscribed
     FROM memberships m
     JOIN contacts c ON c.id = m.contact_id
     LEFT JOIN delivered_state d ON d.destination = ? AND d.segment_key = m.segment_key AND d.contact_id = m.contact_id
     WHERE m.segment_key = ?${only('m')}
       AND (? = 1 OR d.contact_id IS NULL OR d.status IN ('removed', 'retryable', 'skipped')
         OR (${withTraits} = 1 AND d.status = 'delivered' AND d.mapped_traits IS DISTINCT FROM ${mapped}))
     ORDER BY m.contact_id`;
  // Emptying, a member's remove is named after their latest history row (open or not), as a leaver's after their exit.
  const leavers = `SELECT d.contact_id, d.status, d.attempts, d.destination_record_id, d.identity_digest, c.email, c.email_consent,
       (SELECT MAX(h.id) FROM membership_history h
         WHERE h.segment_key = d.segment_key AND h.contact_id = d.contact_id
           AND ${everyoneLeaves ? '1 = 1' : 'h.exited_at IS NOT NULL'}) AS history_id,
       (SELECT MAX(COALESCE(h.exited_at, h.entered_at)) FROM membership_history h
         WHERE h.segment_key = d.segment_key AND h.contact_id = d.contact_id
           AND ${everyoneLeaves ? '1 = 1' : 'h.exited_at IS NOT NULL'}) AS history_at
     FROM delivered_state d
     JOIN contacts c ON c.id = d.contact_id
     WHERE d.destination = ? AND d.segment_key = ?${only('d')} AND d.status IN ('delivered', 'retryable')
       ${everyoneLeaves ? '' : 'AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.segment_key = d.segment_key AND m.contact_id = d.contact_id)'}
     ORDER BY d.contact_id`;
  // Only contact_id in the WHERE: with the source too, SQLite may walk the (source, external_id) index instead. The
  // identities_contact index holds every column read, so no identity row is fetched. No ORDER BY: identityOf sorts a
  // contact's ids, so a contact known to one tool twice (a Salesforce contact and lead) is addressed by the same one on
  // every engine whatever order the rows come in.
  const identities = `SELECT contact_id, source, external_id FROM identities WHERE contact_id IN (SELECT value FROM ${d.jsonValues('?', 'integer')} AS j) AND deleted = 0`;
  // The identities of the rows from `at` on, read IDENTITY_CHUNK rows at a time (one query per chunk, not per row).
  let known = new Map<number, { source: string; id: string }[]>();
  const readIdentities = async (rows: readonly DiffRow[], at: number): Promise<void> => {
    if (at % IDENTITY_CHUNK !== 0) return;
    known = new Map(rows.slice(at, at + IDENTITY_CHUNK).map((r) => [r.contact_id, []]));
    for (const r of (await store.all(identities, [JSON.stringify([...known.keys()])])) as {
      contact_id: number;
      source: string;
      external_id: string | null;
    }[]) {
      if (r.external_id !== null) known.get(r.contact_id)?.push({ source: r.source, id: r.external_id });
    }
  };
  const identityOf = (row: DiffRow): { contact: ContactIdentity; digest: string } => {
    const all = known.get(row.contact_id) ?? [];
    const contact: ContactIdentity = {
      contactId: String(row.contact_id),
      email: row.email,
      externalIds: all
        .filter((r) => addressedBy.has(r.source))
        .map((r) => r.id)
        .sort(),
      emailConsent: row.email_consent,
    };
    const keys = all.map((r) => `${r.source}\u0000${r.id}`).sort();
    const digest = createHash('sha256')
      .update(JSON.stringify([row.email, keys]))
      .digest('hex')
      .slice(0, 32);
    return { contact, digest };
  };

  const planSegment = async (segmentKey: string): Promise<SegmentPlan> => {
    const skipped: PlanSkips = { suppressed: 0, noConsent: 0, noIdentity: 0, exhausted: 0, notInDestination: 0 };
    const changes: PlannedChange[] = [];
    const retryable = (row: DiffRow): boolean => row.status === 'retryable';
    const exhausted = (row: DiffRow): boolean => retryable(row) && (row.attempts ?? 0) >= attemptCap;

    const memberRows = everyoneLeaves
      ? []
      : ((await store.all(members, [options.destination, segmentKey, ...scope, resendAll])) as (DiffRow &
          MemberFlags)[]);
    for (const [at, row] of memberRows.entries()) {
      await readIdentities(memberRows, at);
      const update = resendAll === 0 && row.status === 'delivered';
      if (resendAll === 0 && (exhausted(row) || (update && (row.update_attempts ?? 0) >= attemptCap))) {
        skipped.exhausted++;
        continue;
      }
      if (row.suppressed) {
        skipped.suppressed++;
        continue;
      }
      if (options.requireConsent === 'email' && row.unsubscribed) {
        skipped.noConsent++;
        continue;
      }
      const { contact, digest } = identityOf(row);
      if (contact.email === null && contact.externalIds.length === 0) {
        skipped.noIdentity++;
        continue;
      }
      // Still the same person the tool did not hold: offering them again would cost calls for the same answer.
      if (resendAll === 0 && row.status === 'skipped' && row.identity_digest === digest) {
        skipped.notInDestination++;
        continue;
      }
      changes.push(planned(update ? 'update' : 'add', row, contact, digest, options.destination, segmentKey));
    }
    if (options.mode !== 'upsert' || everyoneLeaves) {
      const leaverRows = (await store.all(leavers, [options.destination, segmentKey, ...scope])) as DiffRow[];
      for (const [at, row] of leaverRows.entries()) {
        await readIdentities(leaverRows, at);
        if (exhausted(row)) {
          skipped.exhausted++;
          continue;
        }
        const { contact, digest } = identityOf(row);
        changes.push(planned('remove', row, contact, digest, options.destination, segmentKey));
      }
    }
    return { segmentKey, changes, skipped };
  };
  const plans: SegmentPlan[] = [];
  for (const segmentKey of options.segments) plans.push(await planSegment(segmentKey));
  return plans;
}

interface DiffRow {
  contact_id: number;
  status: string | null;
  attempts: number | null;
  destination_record_id: string | null;
  identity_digest: string | null;
  email: string | null;
  email_consent: string;
  history_id: number | null;
  /** When the history row behind the change began (an entry) or ended (an exit). */
  history_at: string | null;
}

interface MemberFlags {
  update_attempts: number | null;
  mapped_traits: string | null;
  delivered_at: string | null;
  suppressed: number;
  unsubscribed: number;
}

function planned(
  op: PlannedChange['op'],
  row: DiffRow & Partial<MemberFlags>,
  contact: ContactIdentity,
  identityDigest: string,
  destination: string,
  segmentKey: string,
): PlannedChange {
  return {
    op,
    contactId: row.contact_id,
    contact,
    ...(row.destination_record_id === null ? {} : { destinationRecordId: row.destination_record_id }),
    messageId: pushMessageId({
      destination,
      segmentKey,
      contactId: row.contact_id,
      historyId: row.history_id,
      at: op === 'update' ? (row.delivered_at ?? null) : row.history_at,
      op,
      ...(op === 'update' ? { mappedTraits: row.mapped_traits ?? '' } : {}),
    }),
    attempts: op === 'update' ? (row.update_attempts ?? 0) : row.status === 'retryable' ? (row.attempts ?? 0) : 0,
    identityDigest,
    ...(op === 'remove' || (row.mapped_traits ?? null) === null
      ? {}
      : {
          traits: JSON.parse(row.mapped_traits as string) as Record<string, unknown>,
          mappedTraits: row.mapped_traits as string,
        }),
  };
}

/** What a change's message id is derived from: who, which segment, and which change. */
export interface MessageIdOf {
  destination: string;
  segmentKey: string;
  contactId: number;
  /** The membership-history row behind the change; null for memberships written by hand. */
  historyId: number | null;
  /** When the change happened: the row's entry (add) or exit (remove), or the last delivery (update). */
  at: string | null;
  op: 'add' | 'remove' | 'update';
  /** For an update: the mapped values it sends. */
  mappedTraits?: string;
}

/**
 * The message id of a change: a sha-256 of the destination, the segment, the contact, the membership-history row, its
 * time and the direction, so the same entry (or exit) sent twice carries the same id and a tool that de-duplicates by
 * it (Segment, for 24 hours) counts it once, while every other change gets another id: a re-entry is a new row, and a
 * row id SQLite hands out again after an erasure comes with another contact or time. An update also hashes the mapped
 * values it sends and the time of the delivery it follows: a retried update keeps its id, and values that come back
 * (A, B, A, B) are new messages each time.
 *
 * @example
 * pushMessageId({ destination: 'segment', segmentKey: 'vip', contactId: 7, historyId: 42,
 *   at: '2026-03-01T10:00:00.000Z', op: 'add' }); // the same string on every run
 */
export function pushMessageId(change: MessageIdOf): string {
  const what =
    change.op === 'add' ? 'enter' : change.op === 'remove' ? 'exit' : `update\u0000${change.mappedTraits ?? ''}`;
  return createHash('sha256')
    .update(
      [
        change.destination,
        `segment:${change.segmentKey}`,
        `contact:${change.contactId}`,
        `history:${change.historyId ?? ''}`,
        `at:${change.at ?? ''}`,
        what,
      ].join('\u0000'),
    )
    .digest('hex');
}

/** A destination that holds members of a segment, as its delivered state says. */
export interface SegmentHolder {
  /** The destination's connection name. */
  destination: string;
  /** Contacts delivered (or left retryable, so possibly delivered) to it and not removed since. */
  contacts: number;
}

/**
 * The destinations whose delivered state holds members of `segmentKey` (delivered or retryable rows), by name: what
 * emptying the segment in the tools has to remove.
 *
 * @example
 * await segmentHolders(store, 'vip'); // [{ destination: 'crm', contacts: 120 }]
 */
export async function segmentHolders(store: Queryable, segmentKey: string): Promise<SegmentHolder[]> {
  const rows = (await store.all(
    `SELECT destination, COUNT(*) AS contacts FROM delivered_state
     WHERE segment_key = ? AND status IN ('delivered', 'retryable') GROUP BY destination ORDER BY destination`,
    [segmentKey],
  )) as { destination: string; contacts: number | string }[];
  return rows.map((r) => ({ destination: r.destination, contacts: Number(r.contacts) }));
}
