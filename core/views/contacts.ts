import { readContact, type Contact } from '../identity/contacts.js';
import { contactTraitSources } from '../identity/traits.js';
import type { Queryable } from '../store/store.js';

/** Everything the store knows about one contact: the unified profile. */
export interface ContactProfile extends Contact {
  /** Per trait, the source its value came from (by `identity.trait_priority`, else the most recent record). */
  traitSources: Record<string, string>;
  features: Record<string, unknown> | null;
  /** Model outputs, as `model.output` → value and label, with the model version (and run id) that scored them. */
  modelOutputs: {
    model: string;
    output: string;
    value: number | null;
    label: string | null;
    version: number | null;
    runId: number | null;
  }[];
  /** Every entry and exit, newest first; `current` when the contact is still a member. */
  segments: { segment: string; enteredAt: string; exitedAt: string | null; current: boolean }[];
  recentEvents: {
    source: string;
    type: string;
    occurredAt: string;
    value: number | null;
    properties: Record<string, unknown>;
  }[];
}

/**
 * A contact's unified profile: identities per tool, traits, features, model outputs, segment history, recent events.
 *
 * @example
 * const ada = contactProfile(store, 42, { events: 20 });
 * ada?.segments.filter((s) => s.current).map((s) => s.segment);
 */
export async function contactProfile(
  store: Queryable,
  contactId: number,
  options: { events?: number; traitPriority?: Readonly<Record<string, readonly string[]>> | undefined } = {},
): Promise<ContactProfile | undefined> {
  const contact = await readContact(store, contactId);
  if (!contact) return undefined;
  const featureRow = (await store.get('SELECT * FROM contact_features WHERE contact_id = ?', [contactId])) as
    Record<string, unknown> | undefined;
  let features: Record<string, unknown> | null = null;
  if (featureRow) {
    const { contact_id: _id, custom, ...rest } = featureRow;
    features = { ...rest, ...(typeof custom === 'string' ? (JSON.parse(custom) as Record<string, unknown>) : {}) };
  }
  const modelOutputs = (await store.all(
    'SELECT model, output, value, label, model_version AS version, run_id AS "runId" FROM model_outputs WHERE contact_id = ? ORDER BY model, output',
    [contactId],
  )) as ContactProfile['modelOutputs'];
  const history = (await store.all(
    'SELECT segment_key, entered_at, exited_at FROM membership_history WHERE contact_id = ? ORDER BY entered_at DESC, id DESC',
    [contactId],
  )) as { segment_key: string; entered_at: string; exited_at: string | null }[];
  const events = (await store.all(
    `SELECT e.source, e.type, e.occurred_at, e.value, e.properties FROM contact_events ce ${store.dialect.orderedJoin} events e ON e.id = ce.event_id
      WHERE ce.contact_id = ? ORDER BY ce.occurred_at DESC, ce.event_id DESC LIMIT ?`,
    [contactId, Math.max(0, Math.floor(options.events ?? 20))],
  )) as {
    source: string;
    type: string;
    occurred_at: string;
    value: number | null;
    properties: string;
  }[];
  return {
    ...contact,
    traitSources: await contactTraitSources(store, contactId, options.traitPriority),
    features,
    modelOutputs,
    segments: history.map((h) => ({
      segment: h.segment_key,
      enteredAt: h.entered_at,
      exitedAt: h.exited_at,
      current: h.exited_at === null,
    })),
    recentEvents: events.map((e) => ({
      source: e.source,
      type: e.type,
      occurredAt: e.occurred_at,
      value: e.value,
      properties: JSON.parse(e.properties) as Record<string, unknown>,
    })),
  };
}

/** Contacts whose email, or any of whose identities' email, is `email` (normalised by trimming and lower-casing). */
export async function contactIdsByEmail(store: Queryable, email: string): Promise<number[]> {
  const wanted = email.trim().toLowerCase();
  const rows = (await store.all(
    `SELECT id FROM contacts WHERE email = ?
       UNION SELECT contact_id FROM identities WHERE email = ? AND contact_id IS NOT NULL
       ORDER BY 1`,
    [wanted, wanted],
  )) as { id: number }[];
  return rows.map((r) => r.id);
}

/** Whether a trivial query answers. */
export async function storeReachable(store: Queryable): Promise<boolean> {
  try {
    return ((await store.get('SELECT 1 AS ok')) as { ok: number } | undefined)?.ok === 1;
  } catch {
    return false;
  }
}

/** Sizes of what the store holds, and the changes waiting per destination (retryable rows). */
export interface StoreTotals {
  contacts: number;
  identities: number;
  events: number;
  suppressions: number;
  /** Rows left retryable, per destination: changes waiting to be sent again. */
  waiting: Record<string, number>;
}

/** Store totals for /metrics and the console overview. */
export async function storeTotals(store: Queryable): Promise<StoreTotals> {
  const n = async (sql: string) => ((await store.get(sql)) as { n: number }).n;
  const waiting: Record<string, number> = {};
  for (const r of (await store.all(
    "SELECT destination, COUNT(*) AS n FROM delivered_state WHERE status = 'retryable' GROUP BY destination",
  )) as {
    destination: string;
    n: number;
  }[]) {
    waiting[r.destination] = r.n;
  }
  return {
    // merged-away contacts stay as rows marked deleted; they are nobody, as the audit counts
    contacts: await n('SELECT COUNT(*) AS n FROM contacts WHERE deleted = 0'),
    identities: await n('SELECT COUNT(*) AS n FROM identities'),
    events: await n('SELECT COUNT(*) AS n FROM events'),
    suppressions: await n('SELECT COUNT(*) AS n FROM suppressions'),
    waiting,
  };
}

/** Each tool's email consent for a contact, as the tool's own record says it (the merge keeps the newest one). */
export async function consentByTool(
  store: Queryable,
  contactId: number,
): Promise<{ source: string; externalId: string | null; consent: string | null }[]> {
  const rows = (await store.all(
    'SELECT source, external_id, traits FROM identities WHERE contact_id = ? ORDER BY source, external_id',
    [contactId],
  )) as { source: string; external_id: string | null; traits: string }[];
  return rows.map((r) => {
    const consent = (JSON.parse(r.traits) as Record<string, unknown>).email_consent;
    return { source: r.source, externalId: r.external_id, consent: typeof consent === 'string' ? consent : null };
  });
}

/** How many (not merged-away) contacts are members of at least one segment: nobody is counted twice. */
export async function contactsInAnySegment(store: Queryable): Promise<number> {
  return Number(
    ((await store.get('SELECT COUNT(DISTINCT contact_id) AS n FROM memberships')) as { n: number | string }).n,
  );
}
