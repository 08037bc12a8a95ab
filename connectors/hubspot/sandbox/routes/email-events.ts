/**
 * Marketing email events (the legacy Email Events API), paged by an opaque offset.
 */
import type { Hono } from 'hono';
import type { EmailEvent } from '../portal.js';
import { firstAtOrAfter, intParam, validation } from '../answers.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * emailEventRoutes(app, { portal, limits, now, written });
 */
export function emailEventRoutes(app: Hono, { portal, limits }: RouteOptions): void {
  app.get('/email/public/v1/events', (c) => {
    const log = portal.emailEvents;
    const start = c.req.query('startTimestamp') === undefined ? -Infinity : Number(c.req.query('startTimestamp'));
    const end = c.req.query('endTimestamp') === undefined ? Infinity : Number(c.req.query('endTimestamp'));
    const limit = Math.min(intParam(c.req.query('limit'), 100), limits.emailEventsPageSize);
    const eventType = c.req.query('eventType');
    const recipient = c.req.query('recipient');
    let index = firstAtOrAfter(log.count, log.createdAt, start);
    const offset = c.req.query('offset');
    if (offset) {
      const decoded = Number(Buffer.from(offset, 'base64url').toString());
      if (!Number.isInteger(decoded)) return validation(c, 'invalid offset');
      index = Math.max(index, decoded);
    }
    const events: EmailEvent[] = [];
    for (; index < log.count && events.length < limit; index++) {
      if (log.createdAt(index) > end) break;
      const event = log.at(index);
      if (eventType && event.type !== eventType) continue;
      if (recipient && event.recipient.toLowerCase() !== recipient.toLowerCase()) continue;
      events.push(event);
    }
    const hasMore = index < log.count && log.createdAt(index) <= end;
    return c.json({ events, hasMore, offset: Buffer.from(String(index)).toString('base64url') });
  });
}
