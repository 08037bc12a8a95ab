import type {
  AccountRecord,
  ContactRecord,
  EventRecord,
  SourceRecord,
  StreamRecord,
} from '../../plugins/model/index.js';
import { groupCallsOf, loadGroupCalls } from '../accounts/groups.js';
import { accountProblem, linkContactAccounts, loadAccountRecords } from '../accounts/resolve.js';
import { eventProblem, insertEvents } from '../events/events.js';
import { identityKey } from '../identity/key.js';
import { resolveIdentityOptions, type IdentityOptions } from '../identity/options.js';
import { PageResolution, type PageIdentity } from '../identity/resolve.js';
import { traitRanksOf } from '../identity/traits.js';
import { powerOfTwoChunks, valueRows } from '../identity/rows.js';
import type { Queryable } from '../store/store.js';
import { suppressionCheck, type SuppressionCandidates } from '../suppression/suppressions.js';
import { writeCheckpoint } from './checkpoints.js';
import { recordRunErrors, type RunError } from './runs.js';

/** One page a source stream read, with the checkpoint to commit with it. */
export interface LoadPageInput {
  /** The connection (a configured source) the page came from. */
  connection: string;
  stream: string;
  records: readonly StreamRecord[];
  /** The stream's state after this page; committed in the same transaction as the records. */
  checkpoint: unknown;
  /** The sync run the page belongs to; rows that cannot be loaded are recorded against it. */
  runId?: number;
  identity?: IdentityOptions;
  /** Called after every write and before the commit (tests use it to kill the process there). */
  beforeCommit?: () => void;
  now?: Date;
}

/** What loading a page did. Contacts count by identity (a tool record); events by (source, source event id). */
export interface LoadCounts {
  read: number;
  inserted: number;
  updated: number;
  /** Unchanged re-reads, duplicates, suppressed and unloadable rows. */
  skipped: number;
  /** Contacts merged into another because a record linked them. */
  merged: number;
}

export interface LoadResult extends LoadCounts {
  /** Rows that could not be loaded, and why (also written to run_errors when a run id is given). */
  errors: RunError[];
}

function contactProblem(c: ContactRecord): string | undefined {
  if (typeof c.source !== 'string' || c.source === '') return 'contact has no source';
  if (typeof c.externalId !== 'string' || c.externalId === '') return 'contact has no external id';
  if (typeof c.traits !== 'object' || c.traits === null) return 'contact has no traits';
  return undefined;
}

/** The email a suppression is checked against (suppressions store emails trimmed and lower-cased). */
function suppressionEmail(email: unknown): string | null {
  return typeof email === 'string' ? email.trim().toLowerCase() : null;
}

/** The emails and tool ids of a page's loadable records, to check against the suppressions in one go. */
function suppressionCandidates(records: readonly StreamRecord[]): SuppressionCandidates {
  const emails = new Set<string>();
  const externalIds = new Map<string, Set<string>>();
  const add = (source: string, id: unknown, email: unknown) => {
    const e = suppressionEmail(email);
    if (e !== null) emails.add(e);
    if (id === null || id === undefined) return;
    const set = externalIds.get(source);
    if (set) set.add(String(id));
    else externalIds.set(source, new Set([String(id)]));
  };
  for (const r of records) {
    if (r.kind === 'contact' && contactProblem(r) === undefined) add(r.source, r.externalId, r.traits.email);
    else if (r.kind === 'event' && eventProblem(r) === undefined)
      add(r.source, r.contact?.externalId, r.contact?.email);
    else if (r.kind === 'account') for (const member of r.members ?? []) add(r.source, member, null);
  }
  return { emails, externalIds };
}

/**
 * Loads one page in ONE transaction: resolves and upserts its contacts, inserts its events (idempotently; an event
 * naming an unknown person creates that contact), and writes the stream's checkpoint. A crash at any point leaves the
 * store at the last committed page, and re-loading a page changes nothing.
 *
 * @example
 * const state = readCheckpoint(store, 'hubspot', 'contacts');
 * for await (const page of source.read('contacts', state)) {
 *   loadPage(store, { connection: 'hubspot', stream: 'contacts', records: page.records, checkpoint: page.state });
 * }
 */
export async function loadPage(store: Queryable, input: LoadPageInput): Promise<LoadResult> {
  const now = (input.now ?? new Date()).toISOString();
  const options = resolveIdentityOptions(input.identity);
  const counts: LoadCounts = { read: input.records.length, inserted: 0, updated: 0, skipped: 0, merged: 0 };
  const errors: RunError[] = [];
  const reject = (recordKey: string, reason: string): void => {
    counts.skipped += 1;
    errors.push({ connection: input.connection, stream: input.stream, recordKey, reason });
  };
  try {
    await store.transaction(async (tx) => {
      if (input.identity?.traitPriority)
        options.traitRanks = await traitRanksOf(tx, input.identity.traitPriority, {
          connection: input.connection,
          sources: [...new Set(input.records.map((r) => r.source))],
        });
      const suppressed = await suppressionCheck(tx, suppressionCandidates(input.records));
      const isSuppressed = (source: string, externalId: unknown, email: unknown) =>
        !suppressed.empty &&
        (suppressed.external(source, externalId === null || externalId === undefined ? null : String(externalId)) ||
          suppressed.email(suppressionEmail(email)));
      const page = new PageResolution(tx, options, now);
      await page.prefetch(input.records.filter((r): r is SourceRecord => r.kind !== 'account'));
      // The records apply to the page's identities in memory; `resolve` then writes them in a few statements.
      const events: { record: EventRecord; identity: PageIdentity }[] = [];
      const accounts: AccountRecord[] = [];
      const linking: ContactRecord[] = [];
      for (const record of input.records) {
        if (record.kind === 'account') {
          const problem = accountProblem(record);
          if (problem) reject(`${String(record.source)}:${String(record.externalId)}`, problem);
          // An erased person stays out of the member lists a company record states.
          else if (record.members === undefined || suppressed.empty) accounts.push(record);
          else
            accounts.push({
              ...record,
              members: record.members.filter((m) => !isSuppressed(record.source, m, null)),
            });
        } else if (record.kind === 'contact') {
          const problem = contactProblem(record);
          if (problem) {
            reject(`${String(record.source)}:${String(record.externalId)}`, problem);
            continue;
          }
          if (isSuppressed(record.source, record.externalId, record.traits.email)) {
            counts.skipped += 1;
            continue;
          }
          if (record.accountIds !== undefined) linking.push(record);
          const outcome = page.upsertContact(record);
          if (outcome === 'inserted') counts.inserted += 1;
          else if (outcome === 'updated') counts.updated += 1;
          else counts.skipped += 1;
        } else if (record.kind === 'event') {
          const problem = eventProblem(record);
          if (problem) {
            reject(`${String(record.source)}:${String(record.sourceEventId)}`, problem);
            continue;
          }
          const who = record.contact ?? {};
          if (isSuppressed(record.source, who.externalId, who.email)) {
            counts.skipped += 1;
            continue;
          }
          const identity = page.identityOfEvent(record.source, who);
          if (identity === undefined) {
            reject(
              `${record.source}:${record.sourceEventId}`,
              'event names no contact: no external id and no valid email',
            );
            continue;
          }
          events.push({ record, identity });
        } else {
          reject('?', `unknown record kind "${String((record as { kind?: unknown }).kind)}"`);
        }
      }
      await page.resolve();
      // In contact order: the events' contact index and contact_events (clustered by contact) then take the page's
      // rows at neighbouring B-tree positions instead of one random page each.
      const placed = events.map(({ record, identity }) => ({
        record,
        identityId: identity.id,
        identityKey: identityKey(identity.source, identity.external_id, identity.email),
        contactId: page.contactOf(identity),
      }));
      placed.sort((a, b) => a.contactId - b.contactId);
      const inserted = await insertEvents(tx, placed, now);
      counts.inserted += inserted;
      counts.skipped += placed.length - inserted;
      counts.merged = page.merged;
      if (linking.length > 0) await linkContactAccounts(tx, linking);
      const groupCalls = groupCallsOf(events.map((e) => e.record));
      if (groupCalls.length > 0) counts.merged += (await loadGroupCalls(tx, groupCalls, now)).merged;
      if (accounts.length > 0) {
        const loaded = await loadAccountRecords(tx, accounts, now);
        counts.inserted += loaded.inserted;
        counts.updated += loaded.updated;
        counts.skipped += loaded.skipped;
        counts.merged += loaded.merged;
      }
      const sources = [...new Set(input.records.map((r) => r.source))];
      for (const chunk of powerOfTwoChunks(sources, 2)) {
        await tx.run(
          `INSERT INTO connection_sources (connection, source) VALUES ${valueRows(chunk.length, 2)} ON CONFLICT DO NOTHING`,
          chunk.flatMap((source) => [input.connection, source]),
        );
      }
      await writeCheckpoint(tx, input.connection, input.stream, input.checkpoint, now);
      input.beforeCommit?.();
    });
  } finally {
    if (input.runId !== undefined || errors.length > 0) await recordRunErrors(store, input.runId ?? null, errors, now);
  }
  return { ...counts, errors };
}

/**
 * The record sources a source connection has loaded (what its records' ids are keyed by); the connection's own name
 * when it has loaded nothing yet.
 *
 * @example
 * recordSourcesOf(store, 'crm'); // ['hubspot']
 */
export async function recordSourcesOf(store: Queryable, connection: string): Promise<string[]> {
  const rows = (await store.all('SELECT source FROM connection_sources WHERE connection = ? ORDER BY source', [
    connection,
  ])) as { source: string }[];
  return rows.length > 0 ? rows.map((r) => r.source) : [connection];
}
