import type { Queryable } from '../store/store.js';

/**
 * The outcome of the last delivery of one contact's membership of one segment to one destination. `skipped`: the
 * tool does not hold the person (and was not asked to create them); `identityDigest` says who they were then.
 */
export type DeliveryStatus = 'delivered' | 'removed' | 'rejected' | 'retryable' | 'skipped';

/** One row of delivered state. */
export interface DeliveredState {
  destination: string;
  segmentKey: string;
  contactId: number;
  destinationRecordId: string | null;
  deliveredAt: string | null;
  status: DeliveryStatus;
  attempts: number;
  /** The error, or for a skipped row the reason it was skipped. */
  lastError: string | null;
  /** For a skipped row, a digest of the identities it was offered with (the planner offers it again when they change). */
  identityDigest: string | null;
  /**
   * The mapped trait values last settled with the destination (sent with an add or an update and accepted, or
   * rejected and so not sent again until they change); null when the push maps no traits.
   */
  mappedTraits: Record<string, unknown> | null;
  /** Tries of the pending trait update (0 when none is pending); the membership's own tries are `attempts`. */
  updateAttempts: number;
}

/** One contact's delivery outcome, as `recordDeliveries` takes it (the destination and segment are the batch's). */
export interface DeliveryOutcome {
  contactId: number;
  status: DeliveryStatus;
  destinationRecordId?: string | null;
  error?: string | null;
  identityDigest?: string | null;
  mappedTraits?: string | null;
}

/**
 * Records the outcome of delivering one contact's membership to a destination. `attempts` counts the tries of one
 * change: it counts up while the row stays retryable and starts again at 1 after a final outcome. `identityDigest`
 * is kept for a skipped row only. `mappedTraits` (the JSON text of the mapped trait values sent with an add) is kept
 * when the row becomes delivered, cleared when it is removed, and left as it was otherwise.
 *
 * @example
 * recordDelivery(store, { destination: 'salesforce', segmentKey: 'vip', contactId: 7, status: 'delivered',
 *   destinationRecordId: '00v000000000001' });
 * recordDelivery(store, { destination: 'salesforce', segmentKey: 'vip', contactId: 8, status: 'skipped',
 *   error: 'not in Salesforce', identityDigest: 'a3f1…' });
 */
export async function recordDelivery(
  store: Queryable,
  row: DeliveryOutcome & { destination: string; segmentKey: string },
  now = new Date().toISOString(),
): Promise<void> {
  await recordDeliveries(store, row.destination, row.segmentKey, [row], now);
}

const UPSERT_DELIVERED = `ON CONFLICT (destination, segment_key, contact_id) DO UPDATE SET
         destination_record_id = COALESCE(excluded.destination_record_id, delivered_state.destination_record_id),
         delivered_at = COALESCE(excluded.delivered_at, delivered_state.delivered_at),
         status = excluded.status,
         attempts = CASE WHEN delivered_state.status = 'retryable' THEN delivered_state.attempts + 1 ELSE 1 END,
         last_error = excluded.last_error,
         identity_digest = excluded.identity_digest,
         mapped_traits = CASE excluded.status WHEN 'delivered' THEN excluded.mapped_traits WHEN 'removed' THEN NULL
           ELSE delivered_state.mapped_traits END,
         update_attempts = 0`;

/**
 * `rows` cut into runs in which no contact repeats, in order: one statement may not write the same row twice
 * (PostgreSQL refuses an upsert that does; an UPDATE … FROM would apply only one of the two), so a repeated contact
 * starts a new run and its outcomes are recorded in the order given.
 */
function* withoutRepeats<Row extends { contactId: number }>(rows: readonly Row[]): Generator<Row[]> {
  let run: Row[] = [];
  const seen = new Set<number>();
  for (const row of rows) {
    if (seen.has(row.contactId)) {
      yield run;
      run = [];
      seen.clear();
    }
    seen.add(row.contactId);
    run.push(row);
  }
  if (run.length > 0) yield run;
}

/**
 * `recordDelivery` for many contacts of one destination and segment, in one statement (a contact named twice is
 * recorded twice, in order, as one call each would): what a push batch writes after the destination answered.
 *
 * @example
 * await recordDeliveries(tx, 'cdp', 'vip', [{ contactId: 7, status: 'delivered' }, { contactId: 8, status: 'removed' }]);
 */
export async function recordDeliveries(
  store: Queryable,
  destination: string,
  segmentKey: string,
  rows: readonly DeliveryOutcome[],
  now = new Date().toISOString(),
): Promise<void> {
  const d = store.dialect;
  const at = (i: number, as: 'text' | 'integer'): string => d.jsonElement('j.value', i, as);
  const sql = `INSERT INTO delivered_state (destination, segment_key, contact_id, destination_record_id, delivered_at, status, attempts, last_error, identity_digest, mapped_traits, update_attempts)
       SELECT ?, ?, ${at(0, 'integer')}, ${at(1, 'text')}, ${at(2, 'text')}, ${at(3, 'text')}, 1, ${at(4, 'text')}, ${at(5, 'text')}, ${at(6, 'text')}, 0
         FROM ${d.jsonValues('?', 'json')} AS j WHERE true
       ${UPSERT_DELIVERED}`;
  for (const run of withoutRepeats(rows)) {
    const batch = run.map((row) => {
      const delivered = row.status === 'delivered' || row.status === 'removed';
      return [
        row.contactId,
        row.destinationRecordId ?? null,
        delivered ? now : null,
        row.status,
        row.error ?? null,
        row.status === 'skipped' ? (row.identityDigest ?? null) : null,
        row.status === 'delivered' ? (row.mappedTraits ?? null) : null,
      ];
    });
    await store.run(sql, [destination, segmentKey, JSON.stringify(batch)]);
  }
}

/** The outcome of a trait update of one delivered member, as `recordTraitUpdates` takes it. */
export interface TraitUpdateOutcome {
  contactId: number;
  status: 'accepted' | 'rejected' | 'retryable';
  /** The JSON text of the mapped trait values sent. */
  mappedTraits: string | null;
  error?: string | null;
}

/**
 * Records the outcome of a trait update of a delivered member (its membership stays delivered): `accepted` and
 * `rejected` settle the values (a rejected update is not sent again until they change; its reason is kept in
 * last_error), `retryable` leaves the old values and counts a try in `update_attempts`.
 *
 * @example
 * recordTraitUpdate(store, { destination: 'segment', segmentKey: 'vip', contactId: 7, status: 'accepted',
 *   mappedTraits: '{"churn_risk":0.42}' });
 */
export async function recordTraitUpdate(
  store: Queryable,
  row: TraitUpdateOutcome & { destination: string; segmentKey: string },
  now = new Date().toISOString(),
): Promise<void> {
  await recordTraitUpdates(store, row.destination, row.segmentKey, [row], now);
}

/**
 * `recordTraitUpdate` for many members of one destination and segment, in one statement (a contact named twice is
 * recorded twice, in order, as one call each would): what a push batch of updates writes after the destination
 * answered.
 *
 * @example
 * await recordTraitUpdates(tx, 'segment', 'vip', [
 *   { contactId: 7, status: 'accepted', mappedTraits: '{"churn_risk":0.42}' },
 *   { contactId: 8, status: 'retryable', mappedTraits: '{"churn_risk":0.1}', error: 'timeout' },
 * ]);
 */
export async function recordTraitUpdates(
  store: Queryable,
  destination: string,
  segmentKey: string,
  rows: readonly TraitUpdateOutcome[],
  now = new Date().toISOString(),
): Promise<void> {
  const d = store.dialect;
  const at = (i: number, as: 'text' | 'integer'): string => d.jsonElement('j.value', i, as);
  const sql = `UPDATE delivered_state SET
         mapped_traits = CASE WHEN u.settled = 1 THEN u.traits ELSE delivered_state.mapped_traits END,
         update_attempts = CASE WHEN u.settled = 1 THEN 0 ELSE delivered_state.update_attempts + 1 END,
         delivered_at = CASE WHEN u.accepted = 1 THEN ? ELSE delivered_state.delivered_at END,
         last_error = u.error
       FROM (SELECT ${at(0, 'integer')} AS contact_id, ${at(1, 'integer')} AS settled, ${at(2, 'integer')} AS accepted,
                    ${at(3, 'text')} AS traits, ${at(4, 'text')} AS error
               FROM ${d.jsonValues('?', 'json')} AS j) AS u
      WHERE delivered_state.destination = ? AND delivered_state.segment_key = ?
        AND delivered_state.contact_id = u.contact_id`;
  for (const run of withoutRepeats(rows)) {
    const batch = run.map((row) => [
      row.contactId,
      row.status === 'retryable' ? 0 : 1,
      row.status === 'accepted' ? 1 : 0,
      row.mappedTraits,
      row.error ?? null,
    ]);
    await store.run(sql, [now, JSON.stringify(batch), destination, segmentKey]);
  }
}

/** Delivered state of one destination and segment, by contact id. */
export async function readDeliveredState(
  store: Queryable,
  destination: string,
  segmentKey: string,
): Promise<DeliveredState[]> {
  const rows = (await store.all(
    'SELECT * FROM delivered_state WHERE destination = ? AND segment_key = ? ORDER BY contact_id',
    [destination, segmentKey],
  )) as {
    destination: string;
    segment_key: string;
    contact_id: number;
    destination_record_id: string | null;
    delivered_at: string | null;
    status: DeliveryStatus;
    attempts: number;
    last_error: string | null;
    identity_digest: string | null;
    mapped_traits: string | null;
    update_attempts: number;
  }[];
  return rows.map((r) => ({
    destination: r.destination,
    segmentKey: r.segment_key,
    contactId: r.contact_id,
    destinationRecordId: r.destination_record_id,
    deliveredAt: r.delivered_at,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    identityDigest: r.identity_digest,
    mappedTraits: r.mapped_traits === null ? null : (JSON.parse(r.mapped_traits) as Record<string, unknown>),
    updateAttempts: r.update_attempts,
  }));
}
