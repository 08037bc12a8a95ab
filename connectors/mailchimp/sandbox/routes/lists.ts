/**
 * The account and its audiences: ping, the audience listing and one audience.
 */
import type { Hono } from 'hono';
import { missingList } from '../answers.js';
import { renderList } from '../shapes.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * listRoutes(app, { account, limits, written });
 */
export function listRoutes(app: Hono, { account }: RouteOptions): void {
  app.get('/3.0/ping', (c) => c.json({ health_status: "Everything's Chimpy!" }));

  app.get('/3.0/lists', (c) => {
    const lists = account.lists().map((l) => renderList(account, l.id, l.name));
    return c.json({
      lists,
      total_items: lists.length,
      constraints: { may_create: false, max_instances: 2, current_total_instances: 2 },
    });
  });

  app.get('/3.0/lists/:list', (c) => {
    const listId = c.req.param('list');
    const missing = missingList(c, account, listId);
    if (missing) return missing;
    const list = account.lists().find((l) => l.id === listId);
    return c.json(renderList(account, listId, list?.name ?? ''));
  });
}
