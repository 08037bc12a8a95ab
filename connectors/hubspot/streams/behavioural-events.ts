/**
 * The custom behavioural events stream, from the Events API where the portal has them (Enterprise).
 */
import type { EventRecord, StreamDefinition, StreamMessage } from '../../../plugins/index.js';
import { connectionFor, statusOf, type HubSpotConfig } from '../client.js';
import { OVERLAP_MS, newestCursor, eventsSince } from './read.js';

/**
 * Custom behavioural events (`custom`, named by their event type) from the Events API, for portals that have them
 * (Enterprise); a portal without them answers 403 and the stream reads nothing.
 */
export function behaviouralEventsStream(): StreamDefinition<HubSpotConfig> {
  return {
    name: 'behavioral_events',
    recordKind: 'event',
    primaryKey: 'sourceEventId',
    cursorField: 'occurredAt',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      const connection = connectionFor(request.config);
      const previous =
        request.mode === 'incremental' ? ((request.state?.cursor as string | null | undefined) ?? null) : null;
      const since = eventsSince(request);
      // Event types are read one after the other, each in time order: one cursor for all comes only at the end.
      let newest: string | null = null;
      try {
        let types = request.config.customEventTypes;
        if (types.length === 0) {
          const listed = await connection.run(ctx, 'events.types', (client) => client.events.eventsApi.getTypes());
          types = listed.eventTypes.filter((t) => t.startsWith('pe'));
        }
        for (const eventType of types) {
          let after: string | undefined;
          do {
            const page = await connection.run(ctx, 'events.list', (client) =>
              client.events.eventsApi.getPage(
                'contact',
                eventType,
                after,
                undefined,
                100,
                // No sort: HubSpot accepts only the field occurredAt (`ASCENDING` is a 400), and the cursor is the
                // newest event seen, checkpointed at the end, so the order does not matter.
                undefined,
                Number.isFinite(since) ? new Date(since) : undefined,
              ),
            );
            for (const event of page.results) {
              const occurredAt = new Date(event.occurredAt).toISOString();
              if (!newest || occurredAt > newest) newest = occurredAt;
              const record: EventRecord = {
                kind: 'event',
                source: 'hubspot',
                sourceEventId: `behavioral:${event.id}`,
                type: 'custom',
                occurredAt,
                contact: { externalId: String(event.objectId) },
                properties: { ...(event.properties ?? {}), name: event.eventType },
              };
              yield { type: 'record', record };
            }
            after = page.paging?.next?.after;
          } while (after);
        }
      } catch (error) {
        if (statusOf(error) !== 403) throw error;
        ctx.logger.info('HubSpot portal has no custom behavioural events (the Events API answered 403)', {
          connection: ctx.connection,
        });
        yield { type: 'state', state: { cursor: previous } };
        return;
      }
      yield newestCursor(newest, previous);
    },
  };
}
