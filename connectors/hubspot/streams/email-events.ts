/**
 * The marketing email events stream, from the legacy Email Events API through `client.apiRequest` (not in the SDK).
 */
import type { EventRecord, EventType, StreamDefinition, StreamMessage } from '../../../plugins/index.js';
import { connectionFor, type HubSpotConfig } from '../client.js';
import { OVERLAP_MS } from './read.js';

export interface EmailEventsPage {
  events: {
    id: string;
    type: string;
    recipient: string;
    created: number;
    emailCampaignId?: number;
    url?: string;
    subscriptions?: { status?: string }[];
    portalSubscriptionStatus?: string;
    category?: string;
  }[];
  hasMore: boolean;
  offset?: string;
}

export function emailEventType(event: EmailEventsPage['events'][number]): EventType | undefined {
  switch (event.type) {
    case 'SENT':
      return 'email_sent';
    case 'OPEN':
      return 'email_open';
    case 'CLICK':
      return 'email_click';
    case 'BOUNCE':
      return 'email_bounce';
    case 'STATUSCHANGE':
      // A portal-wide opt-out lists no subscription (or not all of them as unsubscribed): its own field says it.
      return event.portalSubscriptionStatus === 'UNSUBSCRIBED' ||
        (event.subscriptions ?? []).some((s) => s.status === 'UNSUBSCRIBED')
        ? 'email_unsubscribe'
        : undefined;
    default:
      return undefined;
  }
}

/** Marketing email events from the legacy Email Events API, through `client.apiRequest` (not in the SDK). */
export function emailEventsStream(): StreamDefinition<HubSpotConfig> {
  return {
    name: 'email_events',
    recordKind: 'event',
    primaryKey: 'sourceEventId',
    cursorField: 'occurredAt',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      const connection = connectionFor(request.config);
      const state = request.mode === 'incremental' ? request.state : undefined;
      const saved = state?.window as { start: number; end: number; offset?: string } | undefined;
      // A window belongs to the cursor it was read under: a cursor moved past its end starts afresh.
      const window = saved && (!state?.cursor || Date.parse(String(state.cursor)) <= saved.end) ? saved : undefined;
      const start =
        window?.start ??
        (state?.cursor
          ? Date.parse(String(state.cursor)) - OVERLAP_MS
          : request.config.startDate
            ? Date.parse(request.config.startDate)
            : 0);
      const end = window?.end ?? ctx.clock.now();
      let offset = window?.offset;
      let cursor = state?.cursor ?? null;
      for (;;) {
        const qs: Record<string, string> = { startTimestamp: String(start), endTimestamp: String(end), limit: '1000' };
        if (offset) qs.offset = offset;
        const page = await connection.raw<EmailEventsPage>(ctx, 'email_events.list', '/email/public/v1/events', qs);
        for (const event of page.events) {
          const type = emailEventType(event);
          const occurredAt = new Date(event.created).toISOString();
          if (!cursor || occurredAt > String(cursor)) cursor = occurredAt;
          if (!type) continue;
          const record: EventRecord = {
            kind: 'event',
            source: 'hubspot',
            sourceEventId: `email:${event.id}`,
            type,
            occurredAt,
            contact: { email: event.recipient },
            properties: {
              campaign_id: event.emailCampaignId === undefined ? null : String(event.emailCampaignId),
              ...(event.url ? { url: event.url } : {}),
              ...(event.category ? { bounce_category: event.category } : {}),
              hubspot_type: event.type,
            },
          };
          yield { type: 'record', record };
        }
        offset = page.offset;
        if (!page.hasMore || !offset) break;
        yield { type: 'state', state: { cursor, window: { start, end, offset } } };
      }
      yield { type: 'state', state: { cursor } };
    },
  };
}
