/**
 * The archived contacts stream: contacts archived (or merged away) since the last read, as deletions.
 */
import type { ContactRecord, StreamDefinition, StreamMessage } from '../../../plugins/index.js';
import type { HubSpotConfig } from '../client.js';
import { OVERLAP_MS, listAll } from './read.js';
import { CONTACT_PROPERTIES, contactRecord } from './contacts.js';

/**
 * Contact ids as a checkpoint keeps them: ascending, each the difference from the previous one in base 36, so the
 * ids of 100,000 contacts take a few hundred kilobytes of state rather than megabytes.
 *
 * @example
 * unpackIds(packIds(['1000003', '1000001'])); // ['1000001', '1000003']
 */
export function packIds(ids: Iterable<string>): string {
  const sorted = [...new Set(ids)]
    .filter((id) => /^\d+$/.test(id))
    .map(Number)
    .sort((a, b) => a - b);
  let previous = 0;
  return sorted
    .map((id) => {
      const delta = id - previous;
      previous = id;
      return delta.toString(36);
    })
    .join(',');
}

/** The ids {@link packIds} packed. */
export function unpackIds(packed: string): string[] {
  if (!packed) return [];
  let previous = 0;
  return packed.split(',').map((delta) => String((previous += parseInt(delta, 36))));
}

export interface DeletionState {
  cursor?: string | null;
  /** When the last id reconciliation listed every live contact. */
  reconciledAt?: string;
  /** The live contact ids that listing found, packed. */
  knownIds?: string;
  [key: string]: unknown;
}

/**
 * Deleted contacts: archived ones, read through `archived=true` (search never shows them), and GDPR-deleted ones,
 * which vanish without a trace and are found by an id reconciliation: every `reconcileEveryHours` the stream lists
 * every live contact id and reads each id the previous listing found, and that is now neither live, archived nor
 * merged into a live contact, as deleted. The checkpoint holds the previous listing's ids (a source cannot see the
 * store), so a contact created and GDPR-deleted between two reconciliations is not seen.
 */
export function archivedContactsStream(config: HubSpotConfig): StreamDefinition<HubSpotConfig> {
  return {
    name: 'archived_contacts',
    recordKind: 'contact',
    primaryKey: 'externalId',
    cursorField: 'traits.updated_at',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      const state = (request.mode === 'incremental' ? request.state : undefined) as DeletionState | undefined;
      const since = state?.cursor ? Date.parse(String(state.cursor)) - OVERLAP_MS : -Infinity;
      const found: ContactRecord[] = [];
      const archived = new Set<string>();
      for await (const { page } of listAll('contacts', CONTACT_PROPERTIES, true, request, ctx)) {
        for (const object of page) {
          archived.add(object.id);
          const record = contactRecord({ ...object, archived: true }, config.properties);
          if (Date.parse(String(record.traits.updated_at)) >= since) found.push(record);
        }
      }
      found.sort((a, b) => String(a.traits.updated_at).localeCompare(String(b.traits.updated_at)));
      for (const record of found) yield { type: 'record', record };
      let cursor = found[found.length - 1]?.traits.updated_at ?? state?.cursor ?? null;

      const now = ctx.clock.now();
      const last = state?.reconciledAt ? Date.parse(state.reconciledAt) : NaN;
      let { reconciledAt, knownIds } = state ?? {};
      if (knownIds === undefined || Number.isNaN(last) || now - last >= config.reconcileEveryHours * 3_600_000) {
        const live = new Set<string>();
        const merged = new Set<string>();
        for await (const { page } of listAll('contacts', ['hs_merged_object_ids'], false, request, ctx)) {
          for (const object of page) {
            live.add(object.id);
            for (const id of (object.properties.hs_merged_object_ids ?? '').split(';'))
              if (id.trim()) merged.add(id.trim());
          }
        }
        const at = new Date(now).toISOString();
        const vanished =
          knownIds === undefined
            ? []
            : unpackIds(knownIds).filter((id) => !live.has(id) && !archived.has(id) && !merged.has(id));
        for (const id of vanished) {
          yield {
            type: 'record',
            record: {
              kind: 'contact',
              source: 'hubspot',
              externalId: id,
              traits: { updated_at: at },
              deleted: true,
              raw: { gdpr_deleted: true },
            },
          };
        }
        if (vanished.length > 0) {
          cursor = cursor && String(cursor) > at ? cursor : at;
          ctx.logger.info('HubSpot contacts no longer listed read as deleted', {
            connection: ctx.connection,
            count: vanished.length,
          });
        }
        reconciledAt = at;
        knownIds = packIds(live);
      }
      yield {
        type: 'state',
        state: {
          cursor,
          ...(reconciledAt === undefined ? {} : { reconciledAt }),
          ...(knownIds === undefined ? {} : { knownIds }),
        },
      };
    },
  };
}
