import type { AccountRecord, AccountTraits, EventRecord } from '../../plugins/model/index.js';
import type { Queryable } from '../store/store.js';
import { loadAccountRecords, type AccountLoadCounts } from './resolve.js';

/** The custom event name the tracking API stores a `group` call under (properties `group_id` and `traits`). */
export const GROUP_EVENT_NAME = '$group';

/** One tracking `group` call: the person (by their id in the call's source) joins the account `groupId`. */
export interface GroupCall {
  source: string;
  groupId: string;
  contactExternalId: string;
  occurredAt: string;
  /** The call's id (its event's source event id): breaks ties between calls of the same instant. */
  messageId: string;
  traits: Record<string, unknown>;
}

/**
 * The group calls among a page's events: `custom` events named `$group` with a group id and a contact id.
 *
 * @example
 * groupCallsOf([{ kind: 'event', source: 'tracking', sourceEventId: 'g1', type: 'custom', occurredAt,
 *   contact: { externalId: 'u1' }, properties: { name: '$group', group_id: 'acme', traits: { name: 'Acme' } } }]);
 */
export function groupCallsOf(events: readonly EventRecord[]): GroupCall[] {
  const calls: GroupCall[] = [];
  for (const e of events) {
    const p = e.properties ?? {};
    if (e.type !== 'custom' || p.name !== GROUP_EVENT_NAME) continue;
    const groupId = typeof p.group_id === 'string' && p.group_id !== '' ? p.group_id : undefined;
    const contact = e.contact?.externalId;
    if (groupId === undefined || typeof contact !== 'string' || contact === '') continue;
    const traits = typeof p.traits === 'object' && p.traits !== null && !Array.isArray(p.traits) ? p.traits : {};
    calls.push({
      source: e.source,
      groupId,
      contactExternalId: contact,
      occurredAt: e.occurredAt,
      messageId: e.sourceEventId,
      traits: traits as Record<string, unknown>,
    });
  }
  return calls;
}

/** Segment's reserved group traits under the account's canonical names; other objects kept as JSON text. */
function accountTraitsOf(input: Record<string, unknown>): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (key === 'createdAt') out.created_at = typeof value === 'string' ? value : null;
    else if (key === 'employees' && typeof value === 'string' && Number.isFinite(Number(value)))
      out.employees = Number(value);
    else if (key === 'address' && typeof value === 'object' && value !== null) {
      const country = (value as Record<string, unknown>).country;
      if (typeof country === 'string') out.country = country;
    } else if (value === null || ['string', 'number', 'boolean'].includes(typeof value))
      out[key] = value as string | number | boolean | null;
    else out[key] = JSON.stringify(value);
  }
  return out;
}

/** When each trait was last set, as `[occurredAt, messageId]`, kept in the identity's raw. */
type TraitTimes = Record<string, [string, string]>;

const later = (a: [string, string], b: [string, string] | undefined) =>
  b === undefined || a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/**
 * Turns tracking `group` calls into accounts, inside the caller's transaction: each group id is an account record of
 * the call's source (its traits, each from the latest call that set it, so the result does not depend on the order
 * calls arrive in; `website` or `domain` matching it to the CRMs' accounts), and each caller is linked to it as a
 * member. Links only add: a person in several groups belongs to each.
 *
 * @example
 * await store.transaction((tx) => loadGroupCalls(tx, groupCallsOf(events), new Date().toISOString()));
 */
export async function loadGroupCalls(
  tx: Queryable,
  calls: readonly GroupCall[],
  now: string,
): Promise<AccountLoadCounts> {
  const bySource = new Map<string, GroupCall[]>();
  for (const call of calls) {
    const key = `${call.source}\u0000${call.groupId}`;
    bySource.set(key, [...(bySource.get(key) ?? []), call]);
  }
  const records: AccountRecord[] = [];
  for (const group of bySource.values()) {
    const { source, groupId } = group[0] as GroupCall;
    const existing = (await tx.get('SELECT traits, raw FROM account_identities WHERE source = ? AND external_id = ?', [
      source,
      groupId,
    ])) as { traits: string; raw: string } | undefined;
    const traits = (existing ? JSON.parse(existing.traits) : {}) as Record<string, unknown>;
    const times = ((existing ? (JSON.parse(existing.raw) as { trait_times?: TraitTimes }) : {}).trait_times ??
      {}) as TraitTimes;
    for (const call of group) {
      const stamp: [string, string] = [call.occurredAt, call.messageId];
      for (const [key, value] of Object.entries(accountTraitsOf(call.traits))) {
        if (key === 'updated_at' || !later(stamp, times[key])) continue;
        traits[key] = value;
        times[key] = stamp;
      }
      if (later(stamp, times.updated_at)) times.updated_at = stamp;
    }
    traits.updated_at = times.updated_at?.[0] ?? null;
    records.push({
      kind: 'account',
      source,
      externalId: groupId,
      traits: traits as AccountTraits,
      raw: { trait_times: times },
    });
  }
  const counts = await loadAccountRecords(tx, records, now);
  for (const call of calls) {
    await tx.run(
      "INSERT INTO account_links (source, account_external_id, contact_external_id, origin) VALUES (?, ?, ?, 'group') ON CONFLICT DO NOTHING",
      [call.source, call.groupId, call.contactExternalId],
    );
  }
  return counts;
}
