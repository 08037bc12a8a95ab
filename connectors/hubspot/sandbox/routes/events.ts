/**
 * The Events API (custom behavioural events; Enterprise portals only, 403 otherwise; one sort field).
 */
import type { Context, Hono } from 'hono';
import { decodeOffset, hubspotError, intParam, validation, nextPaging, offsetPage } from '../answers.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * eventRoutes(app, { portal, limits, now, written });
 */
export function eventRoutes(app: Hono, { portal, limits }: RouteOptions): void {
  const noCustomEvents = (c: Context) =>
    c.json(
      hubspotError(
        'This portal has no custom behavioral events (Marketing Hub Enterprise is required).',
        'MISSING_SCOPES',
      ),
      403,
    );
  app.get('/events/v3/events/event-types', (c) => {
    if (!portal.customEvents) return noCustomEvents(c);
    const custom = [...new Set(portal.behaviouralEvents.map((e) => e.eventType))].sort();
    return c.json({ eventTypes: ['e_visited_page', 'e_submitted_form', ...custom] });
  });
  const listEvents = (c: Context) => {
    if (!portal.customEvents) return noCustomEvents(c);
    const objectType = c.req.query('objectType');
    if (objectType !== undefined && objectType !== 'contact' && objectType !== '0-1') return c.json({ results: [] });
    const eventType = c.req.query('eventType');
    const objectId = c.req.query('objectId');
    const after =
      c.req.query('occurredAfter') === undefined ? -Infinity : Date.parse(String(c.req.query('occurredAfter')));
    const before =
      c.req.query('occurredBefore') === undefined ? Infinity : Date.parse(String(c.req.query('occurredBefore')));
    if (Number.isNaN(after) || Number.isNaN(before))
      return validation(c, 'occurredAfter and occurredBefore must be ISO-8601 date-times');
    // The real API names one sort field and nothing else: `ASCENDING`, `DESCENDING` or a second field is a 400
    // (HubSpot/hubspot-api-python#333). `-occurredAt` for newest first is an assumption; newest first is the default.
    const sorts = c.req.queries('sort') ?? [];
    if (sorts.length > 1 || sorts.some((v) => v !== 'occurredAt' && v !== '-occurredAt'))
      return validation(c, "Only a single sort field 'occurredAt' is supported");
    const ascending = sorts[0] === 'occurredAt';
    const limit = Math.min(Math.max(1, intParam(c.req.query('limit'), 100)), limits.eventsPageSize);
    const from = decodeOffset(c.req.query('after'));
    if (from === undefined) return validation(c, 'invalid after');
    const matching = portal.behaviouralEvents.filter(
      (e) =>
        (!eventType || e.eventType === eventType) &&
        (!objectId || e.objectId === objectId) &&
        e.occurredAt > after &&
        e.occurredAt < before,
    );
    if (!ascending) matching.reverse();
    const { page, next } = offsetPage(matching, from, limit);
    return c.json({
      results: page.map((e) => ({
        id: e.id,
        eventType: e.eventType,
        objectType: e.objectType,
        objectId: e.objectId,
        occurredAt: new Date(e.occurredAt).toISOString(),
        properties: e.properties,
      })),
      ...nextPaging(c, '/events/v3/events/', next),
    });
  };
  app.get('/events/v3/events', listEvents);
  app.get('/events/v3/events/', listEvents);
}
