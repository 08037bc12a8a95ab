/** GET /activity: the activity log (every change and action made through the API or the console), newest first. */
import { Hono } from 'hono';
import { listActivity } from '../../core/activity/index.js';
import { queryOf } from './errors.js';
import { activityQuery } from './schemas.js';
import { paging, type Shared } from './shared.js';

export function activityRoutes(shared: Shared): Hono {
  const app = new Hono();
  app.get('/activity', async (c) => {
    const q = queryOf(c, activityQuery);
    const { entries, total } = await listActivity(shared.deps.store, {
      limit: q.per_page,
      offset: (q.page - 1) * q.per_page,
      ...(q.action ? { action: q.action } : {}),
      ...(q.target ? { target: q.target } : {}),
    });
    return c.json({ entries, ...paging(q.page, q.per_page, total) });
  });
  return app;
}
